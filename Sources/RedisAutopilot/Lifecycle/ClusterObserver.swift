/// One sentinel's answer about the monitored master.
struct SentinelReport: Sendable, Equatable {
    var sentinel: NodeAddress
    /// nil: this sentinel does not monitor the master (yet).
    var master: NodeAddress?
    var failingOver: Bool
}

/// Reads the cluster as Consul and the sentinels see it. Observation only:
/// nothing here changes anything.
struct ClusterObserver {
    let node: NodeContext

    func passing(_ service: String) throws -> [NodeAddress] {
        try node.consul.healthService(service, passingOnly: true).entries
            .map { NodeAddress(host: $0.instanceAddress, port: $0.service.port) }
    }

    func registered(_ service: String) throws -> [NodeAddress] {
        try node.consul.catalogService(service).map { NodeAddress(host: $0.instanceAddress, port: $0.servicePort) }
    }

    /// Instances none of whose checks is critical: passing or warning, so
    /// alive, whatever their state.
    func live(_ service: String) throws -> [NodeAddress] {
        try node.consul.healthService(service, passingOnly: false).entries
            .filter { entry in !entry.checks.contains { $0.status == .critical } }
            .map { NodeAddress(host: $0.instanceAddress, port: $0.service.port) }
    }

    /// What each reachable sentinel of the cluster says of the master; a
    /// sentinel that does not answer is left out (and said so at DEBUG).
    func sentinelReports(includingOwn: Bool) throws -> [SentinelReport] {
        var addresses = try passing(ClusterNames.sentinelService).filter { $0 != node.sentinelAnnounce }
        if includingOwn { addresses.insert(node.sentinelAnnounce, at: 0) }
        var reports: [SentinelReport] = []
        for address in addresses {
            do {
                let sentinel = address == node.sentinelAnnounce ? try node.sentinel() : try node.sentinel(at: address)
                defer { sentinel.close() }
                let master = try sentinel.masterAddress(name: ClusterNames.masterName)
                let failingOver = try master != nil && sentinel.master(name: ClusterNames.masterName).isFailoverInProgress
                reports.append(SentinelReport(sentinel: address, master: master, failingOver: failingOver))
            } catch {
                node.logger.debug("sentinel did not answer", ["sentinel": address, "error": "\(error)"])
            }
        }
        return reports
    }

    /// Redis's role, reduced for the decisions; any failure to answer is
    /// `.unreachable` with the reason.
    func localRedis() -> (observation: RedisObservation, info: RedisInfo?) {
        do {
            let client = try node.redis()
            defer { client.close() }
            let info = try client.info()
            return (Self.observation(of: info), info)
        } catch {
            return (.unreachable(reason: "\(error)"), nil)
        }
    }

    static func observation(of info: RedisInfo) -> RedisObservation {
        let loading = info.loading ?? false
        switch info.role {
        case .replica:
            let master = info.masterHost.flatMap { host in info.masterPort.map { NodeAddress(host: host, port: $0) } }
            return .replica(of: master, linkUp: info.isMasterLinkUp, loading: loading)
        case .master:
            return .master(connectedReplicas: info.connectedReplicaCount ?? 0, loading: loading)
        case nil:
            return .unreachable(reason: "INFO has no role line")
        }
    }

    /// Whether the Redis at `address` answers ROLE as master. A node Consul
    /// still lists as passing `redis` may not: the catalog keeps a crashed
    /// node's statuses until its restarted agent syncs, which can list a dead
    /// old master, or one already restarted as a replica, for seconds.
    func answersAsMaster(_ address: NodeAddress) -> Bool {
        do {
            let client = try RedisClient.connect(
                to: .tcp(host: address.host, port: address.port), credentials: node.credentials, timeout: min(node.redisTimeout, 1))
            defer { client.close() }
            if case .master = try client.role() { return true }
            return false
        } catch {
            node.logger.debug("listed master did not answer as master", ["redis": address, "error": "\(error)"])
            return false
        }
    }

    /// The local Sentinel's master, nil when it does not answer.
    func localSentinelMaster() -> NodeAddress? {
        do {
            let sentinel = try node.sentinel()
            defer { sentinel.close() }
            return try sentinel.masterAddress(name: ClusterNames.masterName)
        } catch {
            node.logger.debug("local sentinel did not answer", ["error": "\(error)"])
            return nil
        }
    }
}
