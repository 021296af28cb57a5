/// Reads what the switchover decides on: the sentinels (all at once), the
/// master's replication, and Consul's passing `redis`.
struct SwitchoverObserver {
    let reach: ClusterReach

    init(reach: ClusterReach) {
        self.reach = reach
    }

    /// `master`: the master the switchover started from (nil at first:
    /// the one the sentinels name). `replicasSeen`: the replicas that master
    /// listed so far, the only nodes besides it that get REDIS_PASSWORD (a
    /// sentinel's answer alone is not trusted with it). `sentinel` is the one
    /// to ask for the failover: the local Sentinel when it answers.
    func observe(master known: NodeAddress?, replicasSeen: Set<NodeAddress> = []) -> (snapshot: SwitchoverSnapshot, sentinel: NodeAddress?) {
        let consul = reach.consul()
        let consulMasters = try? consul.healthService("redis", passingOnly: true).entries.compactMap {
            try? NodeAddress(host: $0.instanceAddress, port: $0.service.port)
        }
        var sentinels = Set((try? consul.healthService(ClusterNames.sentinelService).entries.compactMap {
            try? NodeAddress(host: $0.instanceAddress, port: $0.service.port)
        }) ?? [])
        if let local = reach.localSentinel { sentinels.insert(local) }
        let listed = sentinels.sorted()
        let timeout = min(reach.redisTimeout, 2)
        let reach = self.reach
        let views = ParallelQueries.run(listed.map { address in
            { @Sendable () -> SentinelView? in Self.view(of: address, reach: reach, timeout: timeout) }
        }, until: Deadline.after(seconds: timeout + 0.5)).compactMap { $0 ?? nil }

        var allSentinels = sentinels
        for view in views { allSentinels.formUnion(view.peers) }
        let named = views.compactMap(\.master)
        let leader = views.first { $0.address == reach.localSentinel && $0.master != nil } ?? views.first { $0.master != nil }
        let master = known ?? named.mostNamed()?.address

        var snapshot = SwitchoverSnapshot(
            sentinelsKnown: allSentinels.count, namedMasters: named, failoverInProgress: views.contains(where: \.failingOver),
            quorum: leader?.quorum, master: master, masterAnswers: false, consulMasters: consulMasters)
        if let master, let info = Self.replication(of: master, reach: reach) {
            snapshot.masterAnswers = info.role == .master
            snapshot.masterOffset = info.masterReplicationOffset ?? 0
            snapshot.oldMasterIsReplica = info.role == .replica
            let entries = info.connectedReplicas.compactMap { entry in
                (try? NodeAddress(host: entry.ip, port: entry.port)).map { (address: $0, entry: entry) }
            }
            // Each replica's own offset is current; the master learns it only from the once-a-second ACK.
            let processed = ParallelQueries.run(entries.map { replica in
                { @Sendable () -> Int64? in Self.processedOffset(of: replica.address, from: master, reach: reach) }
            }, until: Deadline.after(seconds: timeout))
            snapshot.replicas = zip(entries, processed).map { replica, own in
                let sentinelEntry = leader?.replicas.first { $0.address == replica.address }
                return SwitchoverReplica(
                    address: replica.address, online: replica.entry.state == "online",
                    offset: max(replica.entry.offset ?? 0, (own ?? nil) ?? 0),
                    flaggedDown: sentinelEntry?.isDown ?? false, sentinelPriority: sentinelEntry?.priority, ackAgeSeconds: replica.entry.lag)
            }
        }
        if let named = named.mostNamed()?.address, named != master {
            snapshot.namedAnswersAsMaster = Self.replication(of: named, reach: reach, authenticated: replicasSeen.contains(named))?.role == .master
        }
        snapshot.leaderNames = leader?.master
        if let promoted = leader?.master, promoted != master {
            snapshot.leaderNamedAnswersAsMaster =
                Self.replication(of: promoted, reach: reach, authenticated: replicasSeen.contains(promoted))?.role == .master
        }
        return (snapshot, leader?.address)
    }

    /// The offset a replica has processed, only while it replicates `master`
    /// with its link up: another stream's offsets do not compare.
    static func processedOffset(of replica: NodeAddress, from master: NodeAddress, reach: ClusterReach) -> Int64? {
        guard let info = replication(of: replica, reach: reach), info.role == .replica, info.isMasterLinkUp,
              let host = info.masterHost, let port = info.masterPort, (try? NodeAddress(host: host, port: port)) == master else { return nil }
        return info.integer("slave_repl_offset")
    }

    static func replication(of address: NodeAddress, reach: ClusterReach, authenticated: Bool = true) -> RedisInfo? {
        guard let client = try? reach.redis(address, authenticated: authenticated) else { return nil }
        defer { client.close() }
        return try? client.info(section: "replication")
    }

    struct SentinelView: Sendable {
        var address: NodeAddress
        var master: NodeAddress?
        var failingOver: Bool
        var peers: [NodeAddress]
        var replicas: [SentinelReplica]
        var quorum: SentinelQuorumCheck?
    }

    static func view(of address: NodeAddress, reach: ClusterReach, timeout: Double) -> SentinelView? {
        guard let sentinel = try? reach.sentinel(address, timeout: timeout) else { return nil }
        defer { sentinel.close() }
        let name = ClusterNames.masterName
        guard let master = try? sentinel.masterAddress(name: name) else { return nil }
        let state = try? sentinel.master(name: name)
        return SentinelView(
            address: address, master: master, failingOver: state?.isFailoverInProgress ?? false,
            peers: ((try? sentinel.sentinels(name: name)) ?? []).filter { !$0.isDown }.compactMap(\.address),
            replicas: (try? sentinel.replicas(name: name)) ?? [], quorum: try? sentinel.checkQuorum(name: name))
    }
}
