import Foundation

/// onStart: decides this node's role before redis-server and redis-sentinel
/// start, and writes their configuration for it.
public struct OnStartHook {
    let node: NodeContext
    let chooser: RoleChooser
    /// Where Sentinel finds the failover hook: this very executable.
    let reconfigScript: String?

    public init(node: NodeContext, reconfigScript: String?) {
        self.node = node
        chooser = RoleChooser(node: node, hook: "onStart", includeOwnSentinel: false)
        self.reconfigScript = reconfigScript
    }

    public func run() throws {
        try waitForLeader()
        try dropRegistrationsFromBeforeThisStart()
        let dialect = RedisConfDialect(version: try RedisServerBinary.version())
        switch try chooser.choose() {
        case .replica(let master):
            try writeConfiguration(master: master, replicaOf: master, dialect: dialect)
        case .master:
            try chooser.prepareMaster()
            try writeConfiguration(master: node.announce, replicaOf: nil, dialect: dialect)
        }
    }

    private func waitForLeader() throws {
        let timeout = node.settings.consul.leaderTimeout.inSeconds
        let deadline = Deadline.after(seconds: timeout)
        var lastError: Error?
        while true {
            do {
                if let leader = try node.consul.leader() {
                    node.log("onStart", "Consul leader is \(leader)", level: .debug)
                    return
                }
                lastError = nil
            } catch {
                lastError = error
            }
            if deadline.hasPassed {
                if let lastError { throw lastError }
                throw LifecycleError.noConsulLeader(waitedSeconds: Int(timeout))
            }
            pause(seconds: 1)
        }
    }

    /// An agent restarted with its node keeps the role services it had (with
    /// critical checks once preStart has cleared their last statuses, passing
    /// ones if it could not). redis-server is not running yet, so no role
    /// registration of this node is true; health registers the real one.
    private func dropRegistrationsFromBeforeThisStart() throws {
        let leftovers = try node.consul.agentServices().values
            .filter { RoleService(rawValue: $0.name) != nil }.map(\.id).sorted()
        guard !leftovers.isEmpty else { return }
        node.log("onStart", "this node's agent still has \(leftovers.joined(separator: ", ")) from before this start while redis-server "
            + "is not running yet; deregistering them until health registers the real role")
        for id in leftovers {
            do {
                try node.consul.deregisterService(id: id)
            } catch ConsulError.http(_, _, 404, _) {
                continue
            }
        }
    }

    private func writeConfiguration(master: NodeAddress, replicaOf: NodeAddress?, dialect: RedisConfDialect) throws {
        let settings = node.settings
        for directory in [settings.paths.dataDir, settings.paths.runDir] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try RedisConfFile(node: node).write(replicaOf: replicaOf, dialect: dialect, hook: "onStart")

        let existing = ConfigFile.read(settings.paths.sentinelConf).map {
            ExistingSentinelConf.parse($0, masterName: ClusterNames.masterName)
        }
        switch SentinelConfPolicy.choose(existing: existing, clusterMaster: master) {
        case .keep(let reason):
            node.log("onStart", reason)
        case let .write(myID, reason):
            let sentinelConf = SentinelConfWriter.render(SentinelConfInput(
                port: settings.sentinel.port, bind: settings.redis.bind, workingDirectory: settings.paths.runDir,
                announce: node.sentinelAnnounce, masterName: ClusterNames.masterName, master: master,
                quorum: try integerKey(ClusterNames.quorumKey, default: ClusterNames.defaultQuorum),
                downAfterMilliseconds: Int(settings.sentinel.downAfter.inMilliseconds),
                parallelSyncs: settings.sentinel.parallelSyncs,
                failoverTimeoutMilliseconds: try integerKey(ClusterNames.failoverTimeoutKey, default: ClusterNames.defaultFailoverTimeoutMilliseconds),
                password: settings.redis.password, username: settings.redis.username,
                knownReplicas: try knownReplicas(master: master, replicaOf: replicaOf),
                knownSentinels: [], myID: myID, clientReconfigScript: reconfigScript, dialect: dialect))
            try ConfigFile.write(sentinelConf, to: settings.paths.sentinelConf)
            node.log("onStart", reason)
        }
    }

    /// Replicas a fresh Sentinel can promote at once, instead of waiting up to
    /// ten seconds for the master's INFO to list them.
    private func knownReplicas(master: NodeAddress, replicaOf: NodeAddress?) throws -> [NodeAddress] {
        var replicas = Set(try chooser.observer.passing(RoleService.replica.name))
        if replicaOf != nil { replicas.insert(node.announce) }
        replicas.remove(master)
        return replicas.sorted()
    }

    /// A cluster-wide setting kept in Consul KV, with the original's default
    /// when the key is absent. A present but unusable value is an error: a
    /// silently ignored quorum is worse than a failed start.
    private func integerKey(_ key: String, default value: Int) throws -> Int {
        guard let text = try node.consul.getKV(key)?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            return value
        }
        guard let number = Int(text), number > 0 else {
            throw LifecycleError.badClusterSetting(key: key, value: String(text.prefix(40)), expected: "a positive whole number")
        }
        return number
    }
}
