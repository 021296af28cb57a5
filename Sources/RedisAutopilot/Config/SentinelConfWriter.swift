/// A sentinel another node runs, as this node's Sentinel should first know it.
public struct KnownSentinel: Sendable, Equatable {
    public var address: NodeAddress
    public var id: String

    public init(address: NodeAddress, id: String) {
        self.address = address
        self.id = id
    }
}

/// Everything sentinel.conf says about this node's Sentinel.
public struct SentinelConfInput: Sendable, Equatable {
    public var port: Int
    public var bind: [String]
    public var workingDirectory: String
    public var announce: NodeAddress
    public var masterName: String
    public var master: NodeAddress
    public var quorum: Int
    public var downAfterMilliseconds: Int
    public var parallelSyncs: Int
    public var failoverTimeoutMilliseconds: Int
    public var password: String?
    public var username: String?
    /// Written so a fresh Sentinel can fail over at once instead of waiting
    /// for INFO and hello messages to discover its peers.
    public var knownReplicas: [NodeAddress]
    public var knownSentinels: [KnownSentinel]
    /// This Sentinel's own id from its previous file; never another node's.
    public var myID: String?
    public var clientReconfigScript: String?

    public init(port: Int, bind: [String], workingDirectory: String, announce: NodeAddress, masterName: String,
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

public enum SentinelConfWriter {
    public static func render(_ input: SentinelConfInput) -> String {
        let name = input.masterName
        var lines = [
            "# Written by redis-manage onStart; Sentinel rewrites this file with its state.",
            "port \(input.port)",
            "bind \(input.bind.joined(separator: " "))",
            "dir \(RedisConfQuoting.quote(input.workingDirectory))",
            "sentinel announce-ip \(input.announce.host)",
            "sentinel announce-port \(input.announce.port)",
        ]
        if let id = input.myID {
            lines.append("sentinel myid \(id)")
        }
        // Every per-master option must follow the monitor line that declares the master.
        lines.append("sentinel monitor \(name) \(input.master.host) \(input.master.port) \(input.quorum)")
        lines.append("sentinel down-after-milliseconds \(name) \(input.downAfterMilliseconds)")
        lines.append("sentinel parallel-syncs \(name) \(input.parallelSyncs)")
        lines.append("sentinel failover-timeout \(name) \(input.failoverTimeoutMilliseconds)")
        if let password = input.password {
            lines.append("sentinel auth-pass \(name) \(RedisConfQuoting.quote(password))")
            if let user = input.username {
                lines.append("sentinel auth-user \(name) \(RedisConfQuoting.quote(user))")
            }
        }
        if let script = input.clientReconfigScript {
            lines.append("sentinel client-reconfig-script \(name) \(script)")
        }
        for replica in input.knownReplicas where replica != input.master {
            lines.append("sentinel known-replica \(name) \(replica.host) \(replica.port)")
        }
        for sentinel in input.knownSentinels where sentinel.address != input.announce && sentinel.id != input.myID {
            lines.append("sentinel known-sentinel \(name) \(sentinel.address.host) \(sentinel.address.port) \(sentinel.id)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What an existing sentinel.conf says, read back to decide whether to keep it.
public struct ExistingSentinelConf: Sendable, Equatable {
    public var master: NodeAddress?
    public var myID: String?

    /// Tolerant by design: a line it does not understand is skipped, and a
    /// file without a usable monitor line reads as having no master.
    public static func parse(_ text: String, masterName: String) -> ExistingSentinelConf {
        var result = ExistingSentinelConf(master: nil, myID: nil)
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let words = rawLine.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard words.first == "sentinel", words.count >= 3 else { continue }
            switch words[1] {
            case "myid":
                if words[2].count == 40, words[2].allSatisfy(\.isHexDigit) { result.myID = words[2] }
            case "monitor" where words.count >= 6 && words[2] == masterName:
                if let port = Int(words[4]), (1...65535).contains(port) {
                    result.master = NodeAddress(host: words[3], port: port)
                }
            default:
                continue
            }
        }
        return result
    }
}

public enum SentinelConfChoice: Sendable, Equatable {
    case keep(reason: String)
    case write(myID: String?, reason: String)
}

/// Sentinel rewrites its own file with what it learned (epochs, peers,
/// replicas); throwing that away costs a rediscovery, so the file is kept
/// unless it follows a master the cluster no longer has.
public enum SentinelConfPolicy {
    public static func choose(existing: ExistingSentinelConf?, clusterMaster: NodeAddress) -> SentinelConfChoice {
        guard let existing else {
            return .write(myID: nil, reason: "no sentinel.conf yet; writing one monitoring \(clusterMaster)")
        }
        guard let master = existing.master else {
            return .write(myID: existing.myID, reason: "sentinel.conf has no usable monitor line; rewriting it to monitor \(clusterMaster)")
        }
        if master == clusterMaster {
            return .keep(reason: "sentinel.conf already monitors the cluster's master \(master); keeping Sentinel's own state")
        }
        return .write(myID: existing.myID, reason: "sentinel.conf monitors \(master) but the cluster's master is \(clusterMaster); rewriting it, keeping this sentinel's id")
    }
}
