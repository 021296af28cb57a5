/// Everything redis.conf says about this node.
public struct RedisConfInput: Sendable, Equatable {
    public var port: Int
    public var bind: [String]
    public var dataDirectory: String
    public var announce: NodeAddress
    /// nil: this node starts as master.
    public var replicaOf: NodeAddress?
    public var password: String?
    public var username: String?
    public var minReplicasToWrite: Int
    public var minReplicasMaxLagSeconds: Int
    public var dialect: RedisConfDialect

    public init(port: Int, bind: [String], dataDirectory: String, announce: NodeAddress, replicaOf: NodeAddress?,
                password: String?, username: String?, minReplicasToWrite: Int, minReplicasMaxLagSeconds: Int,
                dialect: RedisConfDialect) {
        self.port = port
        self.bind = bind
        self.dataDirectory = dataDirectory
        self.announce = announce
        self.replicaOf = replicaOf
        self.password = password
        self.username = username
        self.minReplicasToWrite = minReplicasToWrite
        self.minReplicasMaxLagSeconds = minReplicasMaxLagSeconds
        self.dialect = dialect
    }
}

public enum RedisConfWriter {
    public static func render(_ input: RedisConfInput) -> String {
        let d = input.dialect
        var lines = [
            "# Written by redis-manage onStart; Sentinel may rewrite the replication lines.",
            "port \(input.port)",
            "bind \(input.bind.joined(separator: " "))",
            // Without a password, protected mode would refuse every client that
            // is not on loopback, which is every client of a container.
            "protected-mode \(input.password == nil ? "no" : "yes")",
            "dir \(RedisConfQuoting.quote(input.dataDirectory))",
            "dbfilename dump.rdb",
            "appendonly yes",
            "appendfsync everysec",
            // Logs go to stdout, where ContainerPilot collects them.
            "logfile \"\"",
        ]
        if d.supportsReplicaAnnounce {
            lines.append("\(d.replicaAnnounceIP) \(input.announce.host)")
            lines.append("\(d.replicaAnnouncePort) \(input.announce.port)")
        }
        if let password = input.password {
            lines.append("requirepass \(RedisConfQuoting.quote(password))")
            lines.append("masterauth \(RedisConfQuoting.quote(password))")
            if let user = input.username, d.supportsACLUsers {
                lines.append("masteruser \(RedisConfQuoting.quote(user))")
            }
        }
        if input.minReplicasToWrite > 0 {
            lines.append("\(d.minReplicasToWrite) \(input.minReplicasToWrite)")
            lines.append("\(d.minReplicasMaxLag) \(input.minReplicasMaxLagSeconds)")
        }
        if let master = input.replicaOf {
            lines.append("\(d.replicaOf) \(master.host) \(master.port)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
