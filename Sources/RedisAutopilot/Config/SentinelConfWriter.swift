/// A sentinel another node runs, as this node's Sentinel should first know it.
struct KnownSentinel: Sendable, Equatable {
    var address: NodeAddress
    var id: String

    init(address: NodeAddress, id: String) {
        self.address = address
        self.id = id
    }
}

/// Everything sentinel.conf says about this node's Sentinel.
struct SentinelConfInput: Sendable, Equatable {
    var port: Int
    var bind: [String]
    var workingDirectory: String
    var announce: NodeAddress
    var masterName: String
    var master: NodeAddress
    var quorum: Int
    var downAfterMilliseconds: Int
    var parallelSyncs: Int
    var failoverTimeoutMilliseconds: Int
    var password: String?
    var username: String?
    /// Written so a fresh Sentinel can fail over at once instead of waiting
    /// for INFO and hello messages to discover its peers.
    var knownReplicas: [NodeAddress]
    var knownSentinels: [KnownSentinel]
    /// This Sentinel's own id from its previous file; never another node's.
    var myID: String?
    var clientReconfigScript: String?

    init(port: Int, bind: [String], workingDirectory: String, announce: NodeAddress, masterName: String,
                master: NodeAddress, quorum: Int, downAfterMilliseconds: Int, parallelSyncs: Int,
                failoverTimeoutMilliseconds: Int, password: String?, username: String?, knownReplicas: [NodeAddress],
                knownSentinels: [KnownSentinel], myID: String?, clientReconfigScript: String?) {
        self.port = port
        self.bind = bind
        self.workingDirectory = workingDirectory
        self.announce = announce
        self.masterName = masterName
        self.master = master
        self.quorum = quorum
        self.downAfterMilliseconds = downAfterMilliseconds
        self.parallelSyncs = parallelSyncs
        self.failoverTimeoutMilliseconds = failoverTimeoutMilliseconds
        self.password = password
        self.username = username
        self.knownReplicas = knownReplicas
        self.knownSentinels = knownSentinels
        self.myID = myID
        self.clientReconfigScript = clientReconfigScript
    }
}

enum SentinelConfWriter {
    static let comment = "Written by redis-manage onStart; Sentinel rewrites this file with its state."

    /// The file's text; throws for a value that cannot be written (see `directives`).
    static func render(_ input: SentinelConfInput) throws(ConfigWriterError) -> String {
        RedisConfSyntax.render(try directives(input), comment: comment)
    }

    /// What the file says, one directive per line. Sentinel's CONFIG REWRITE
    /// writes names, hosts, the password and the script path back unquoted,
    /// so those must be bare words (`RedisConfSyntax.isBareWord`) to read the
    /// same on the next start; the rest is checked as in redis.conf.
    static func directives(_ input: SentinelConfInput) throws(ConfigWriterError) -> [ConfDirective] {
        let name = try ConfValueCheck(directive: "sentinel monitor").bareWord(input.masterName, what: "a master name")
        var lines: [ConfDirective] = [
            ["port", try ConfValueCheck(directive: "port").port(input.port)],
            ["bind"] + (try input.bind.map { address throws(ConfigWriterError) in try ConfValueCheck(directive: "bind").ipAddress(address) }),
            ["dir", try ConfValueCheck(directive: "dir").absolutePath(input.workingDirectory)],
            ["sentinel", "announce-ip", input.announce.host],
            ["sentinel", "announce-port", String(input.announce.port)],
        ]
        if input.bind.isEmpty { throw ConfValueCheck(directive: "bind").fail("(nothing)", "one or more IP addresses") }
        if let id = input.myID {
            lines.append(["sentinel", "myid", try ConfValueCheck(directive: "sentinel myid").runID(id)])
        }
        // Every per-master option must follow the monitor line that declares the master.
        lines.append(["sentinel", "monitor", name, input.master.host, String(input.master.port),
                      try ConfValueCheck(directive: "sentinel monitor").count(input.quorum, atLeast: 1)])
        lines.append(["sentinel", "down-after-milliseconds", name,
                      try ConfValueCheck(directive: "sentinel down-after-milliseconds").count(input.downAfterMilliseconds, atLeast: 1)])
        lines.append(["sentinel", "parallel-syncs", name,
                      try ConfValueCheck(directive: "sentinel parallel-syncs").count(input.parallelSyncs, atLeast: 1)])
        lines.append(["sentinel", "failover-timeout", name,
                      try ConfValueCheck(directive: "sentinel failover-timeout").count(input.failoverTimeoutMilliseconds, atLeast: 1)])
        if let password = input.password {
            lines.append(["sentinel", "auth-pass", name,
                          try ConfValueCheck(directive: "sentinel auth-pass").bareWord(password, secret: true, what: "a password")])
            if let user = input.username {
                lines.append(["sentinel", "auth-user", name,
                              try ConfValueCheck(directive: "sentinel auth-user").bareWord(user, what: "an ACL user name")])
            }
        }
        if let script = input.clientReconfigScript {
            let check = ConfValueCheck(directive: "sentinel client-reconfig-script")
            lines.append(["sentinel", "client-reconfig-script", name,
                          try check.bareWord(try check.absolutePath(script), what: "an absolute path")])
        }
        for replica in input.knownReplicas where replica != input.master {
            lines.append(["sentinel", "known-replica", name, replica.host, String(replica.port)])
        }
        for sentinel in input.knownSentinels where sentinel.address != input.announce && sentinel.id != input.myID {
            lines.append(["sentinel", "known-sentinel", name, sentinel.address.host, String(sentinel.address.port),
                          try ConfValueCheck(directive: "sentinel known-sentinel").runID(sentinel.id)])
        }
        return lines
    }
}

/// What an existing sentinel.conf says, read back to decide whether to keep it.
struct ExistingSentinelConf: Sendable, Equatable {
    var master: NodeAddress?
    var myID: String?

    /// Read as Sentinel reads it (quotes included). Tolerant by design: a
    /// line it does not understand is skipped, a file Sentinel itself would
    /// refuse or without a usable monitor line reads as having no master.
    static func parse(_ text: String, masterName: String) -> ExistingSentinelConf {
        var result = ExistingSentinelConf(master: nil, myID: nil)
        for words in RedisConfSyntax.parse(text) ?? [] {
            guard words.first?.lowercased() == "sentinel", words.count >= 3 else { continue }
            switch words[1].lowercased() {
            case "myid":
                if (try? ConfValueCheck(directive: "sentinel myid").runID(words[2])) != nil { result.myID = words[2] }
            case "monitor" where words.count >= 6 && words[2] == masterName:
                result.master = try? NodeAddress(host: words[3], portText: words[4])
            default:
                continue
            }
        }
        return result
    }
}
