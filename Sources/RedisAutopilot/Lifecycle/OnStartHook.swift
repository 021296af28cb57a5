import Foundation

/// onStart: decides this node's role before redis-server and redis-sentinel
/// start, and writes their configuration for it.
struct OnStartHook {
    let settings: Settings
    let cluster: ClusterPort
    /// Observes the Sentinel settings too (`observesSentinelSettings`).
    let chooser: RoleChooser
    let preparation: MasterPreparation
    /// Before anything changes: a node that cannot run its servers must not
    /// take the bootstrap lock or a role.
    let checkServers: () throws -> Void
    /// Where Sentinel finds the failover hook: this very executable.
    let reconfigScript: String?

    var log: HookLog { chooser.log }
    var identity: NodeIdentity { chooser.identity }
    var clock: HookClock { chooser.clock }

    func run() throws {
        try checkServers()
        try waitForLeader()
        try dropRegistrationsFromBeforeThisStart()
        let (outcome, seen) = try chooser.choose()
        let sentinelSettings = seen.sentinelSettings ?? SentinelSettingsSeen(passingReplicas: [], quorum: nil, failoverTimeout: nil)
        if outcome == .master { try preparation.run() }
        try write(OnStartDecision.configuration(for: outcome, me: identity.announce, seen: sentinelSettings), sentinelSettings)
    }

    private func waitForLeader() throws {
        let timeout = settings.consul.leaderTimeout
        var lastError: Error?
        let leader = try HookDriver(clock: clock, log: log).run(
            until: .after(timeout, on: clock),
            observe: { _ in Result { try cluster.leader() } },
            decide: { seen -> LeaderPlan in
                if case .failure(let error) = seen { lastError = error } else { lastError = nil }
                return LeaderPlan.decide(seen)
            },
            act: { plan in plan.leader.map { .done($0) } ?? .again(after: .seconds(1)) })
        guard leader != nil else {
            if let lastError { throw lastError }
            throw LifecycleError.noConsulLeader(waitedSeconds: Int(timeout.inSeconds))
        }
    }

    /// An agent restarted with its node keeps the role services it had (with
    /// critical checks once preStart has cleared their last statuses, passing
    /// ones if it could not). redis-server is not running yet, so no role
    /// registration of this node is true; health registers the real one.
    private func dropRegistrationsFromBeforeThisStart() throws {
        let leftovers = try cluster.localServices().filter { RoleService(rawValue: $0.name) != nil }.map(\.id).sorted()
        guard !leftovers.isEmpty else { return }
        log("this node's agent still has \(leftovers.joined(separator: ", ")) from before this start while redis-server "
            + "is not running yet; deregistering them until health registers the real role")
        for id in leftovers {
            try cluster.deregister(id: id)
        }
    }

    private func write(_ configuration: OnStartConfiguration, _ seen: SentinelSettingsSeen) throws {
        for directory in [settings.paths.dataDir, settings.paths.runDir] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try RedisConfFile(settings: settings, announce: identity.announce, log: log).write(replicaOf: configuration.replicaOf)

        let existing = ConfigFile.read(settings.paths.sentinelConf).map {
            ExistingSentinelConf.parse($0, masterName: ClusterNames.masterName)
        }
        switch SentinelConfPolicy.choose(existing: existing, clusterMaster: configuration.master) {
        case .keep(let reason):
            log(reason)
        case let .write(myID, reason):
            let numbers = try OnStartDecision.sentinelNumbers(seen)
            let sentinelConf = try SentinelConfWriter.render(SentinelConfInput(
                port: settings.sentinel.port, bind: settings.redis.bind, workingDirectory: settings.paths.runDir,
                announce: identity.sentinelAnnounce, masterName: ClusterNames.masterName, master: configuration.master,
                quorum: numbers.quorum, downAfterMilliseconds: Int(settings.sentinel.downAfter.inMilliseconds),
                parallelSyncs: settings.sentinel.parallelSyncs, failoverTimeoutMilliseconds: numbers.failoverTimeoutMilliseconds,
                password: settings.redis.password, username: settings.redis.username,
                knownReplicas: configuration.knownReplicas, knownSentinels: [], myID: myID, clientReconfigScript: reconfigScript))
            try ConfigFile.write(sentinelConf, to: settings.paths.sentinelConf)
            log(reason)
        }
    }
}
