/// Everything redis.conf says about this node.
struct RedisConfInput: Sendable, Equatable {
    var port: Int
    var bind: [String]
    var dataDirectory: String
    var announce: NodeAddress
    /// nil: this node starts as master.
    var replicaOf: NodeAddress?
    var password: String?
    var username: String?
    var minReplicasToWrite: Int
    var minReplicasMaxLagSeconds: Int

    init(port: Int, bind: [String], dataDirectory: String, announce: NodeAddress, replicaOf: NodeAddress?,
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

enum RedisConfWriter {
    static let comment = "Written by redis-manage onStart; Sentinel may rewrite the replication lines."

    /// The file's text; throws for a value that cannot be written (see `directives`).
    static func render(_ input: RedisConfInput) throws(ConfigWriterError) -> String {
        RedisConfSyntax.render(try directives(input), comment: comment)
    }

    /// What the file says, one directive per line. Every value is checked
    /// (ports, IP literals, absolute paths, no control characters in
    /// secrets) and quoted when written, so no value can add a directive.
    static func directives(_ input: RedisConfInput) throws(ConfigWriterError) -> [ConfDirective] {
        var lines: [ConfDirective] = [
            ["port", try ConfValueCheck(directive: "port").port(input.port)],
            ["bind"] + (try input.bind.map { address throws(ConfigWriterError) in try ConfValueCheck(directive: "bind").ipAddress(address) }),
            // Without a password, protected mode would refuse every client that
            // is not on loopback, which is every client of a container.
            ["protected-mode", input.password == nil ? "no" : "yes"],
            ["dir", try ConfValueCheck(directive: "dir").absolutePath(input.dataDirectory)],
            ["dbfilename", "dump.rdb"],
            ["appendonly", "yes"],
            ["appendfsync", "everysec"],
            // Redis waits 5 s by default before a diskless full sync, for more
            // replicas to share it: a new replica's link stays down that long,
            // and it would miss its first health run. Replicas that arrive
            // together (a bootstrap) still share one transfer within 1 s.
            ["repl-diskless-sync-delay", "1"],
            // Logs go to stdout, where ContainerPilot collects them.
            ["logfile", ""],
        ]
        if input.bind.isEmpty { throw ConfValueCheck(directive: "bind").fail("(nothing)", "one or more IP addresses") }
        lines.append(["replica-announce-ip", input.announce.host])
        lines.append(["replica-announce-port", String(input.announce.port)])
        if let password = input.password {
            let secret = try ConfValueCheck(directive: "requirepass").text(password, secret: true, what: "a password")
            lines.append(["requirepass", secret])
            lines.append(["masterauth", secret])
            if let user = input.username {
                lines.append(["masteruser", try ConfValueCheck(directive: "masteruser").text(user, what: "an ACL user name")])
            }
        }
        if input.minReplicasToWrite > 0 {
            lines.append(["min-replicas-to-write", String(input.minReplicasToWrite)])
            lines.append(["min-replicas-max-lag", try ConfValueCheck(directive: "min-replicas-max-lag").count(input.minReplicasMaxLagSeconds, atLeast: 1)])
        }
        if let master = input.replicaOf {
            lines.append(["replicaof", master.host, String(master.port)])
        }
        return lines
    }
}
