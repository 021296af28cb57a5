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

    public init(port: Int, bind: [String], dataDirectory: String, announce: NodeAddress, replicaOf: NodeAddress?,
                password: String?, username: String?, minReplicasToWrite: Int, minReplicasMaxLagSeconds: Int) {
        self.port = port
        self.bind = bind
        self.dataDirectory = dataDirectory
        self.announce = announce
        self.replicaOf = replicaOf
        self.password = password
        self.username = username
        self.minReplicasToWrite = minReplicasToWrite
        self.minReplicasMaxLagSeconds = minReplicasMaxLagSeconds
    }
}

public enum RedisConfWriter {
    public static func render(_ input: RedisConfInput) -> String {
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
            "replica-announce-ip \(input.announce.host)",
            "replica-announce-port \(input.announce.port)",
        ]
        if let password = input.password {
            lines.append("requirepass \(RedisConfQuoting.quote(password))")
            lines.append("masterauth \(RedisConfQuoting.quote(password))")
            if let user = input.username {
                lines.append("masteruser \(RedisConfQuoting.quote(user))")
            }
        }
        if input.minReplicasToWrite > 0 {
            lines.append("min-replicas-to-write \(input.minReplicasToWrite)")
            lines.append("min-replicas-max-lag \(input.minReplicasMaxLagSeconds)")
        }
        if let master = input.replicaOf {
            lines.append("replicaof \(master.host) \(master.port)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
