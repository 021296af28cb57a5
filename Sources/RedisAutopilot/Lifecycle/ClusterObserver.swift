/// One sentinel's answer about the monitored master.
struct SentinelReport: Sendable, Equatable {
    var sentinel: NodeAddress
    /// nil: this sentinel does not monitor the master (yet).
    var master: NodeAddress?
    var failingOver: Bool
    /// It flags the master down or has not heard from it for long
    /// (`SentinelMaster.doubtsMaster`).
    var doubtsMaster: Bool = false
}

/// Reads the cluster as Consul and the sentinels see it. Observation only:
/// nothing here changes anything.
struct ClusterObserver {
    let node: NodeContext

    /// Instances whose address is not one are left out (and logged): anyone
    /// who may register a service could otherwise write into config files.
    func passing(_ service: String) throws -> [NodeAddress] {
        try node.consul.healthService(service, passingOnly: true).entries.compactMap { entry in
            checked(entry.instanceAddress, entry.service.port, service: service, id: entry.service.id, on: entry.node.node)
        }
    }

    func registered(_ service: String) throws -> [NodeAddress] {
        try node.consul.catalogService(service).compactMap { entry in
            checked(entry.instanceAddress, entry.servicePort, service: service, id: entry.serviceID, on: entry.node)
        }
    }

    private func checked(_ host: String, _ port: Int, service: String, id: String, on consulNode: String) -> NodeAddress? {
        do {
            return try NodeAddress(host: host, port: port)
        } catch {
            let instance = "\"\(HTTPParseError.quote(id.utf8, limit: 64))\" on node \"\(HTTPParseError.quote(consulNode.utf8, limit: 64))\""
            node.refusals.reportAddress(from: "Consul's \(service) instance \(instance)", error, to: node.logger)
            return nil
        }
    }

    /// Instances none of whose checks is critical: passing or warning, so
    /// alive, whatever their state.
    func live(_ service: String) throws -> [NodeAddress] {
        try node.consul.healthService(service, passingOnly: false).entries
            .filter { entry in !entry.checks.contains { $0.status == .critical } }
            .compactMap { checked($0.instanceAddress, $0.service.port, service: service, id: $0.service.id, on: $0.node.node) }
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
                let state = try master == nil ? nil : sentinel.master(name: ClusterNames.masterName)
                reports.append(SentinelReport(sentinel: address, master: master, failingOver: state?.isFailoverInProgress ?? false,
                                              doubtsMaster: state?.doubtsMaster ?? false))
            } catch let RedisError.invalidAddress(_, command, error) {
                node.refusals.reportAddress(from: "sentinel \(address) (\(command))", error, to: node.logger)
            } catch let error as RedisError where error.isProtocolViolation {
                // Not a peer that went away: one that sends what no sentinel does.
                node.refusals.report("sentinel \(address) answered with what no sentinel sends: \(error); ignoring it", to: node.logger)
            } catch {
                node.logger.debug("sentinel did not answer", ["sentinel": address, "error": "\(error)"])
            }
        }
        return reports
    }

    /// Who holds the bootstrap lock: this node (its session), another (the
    /// address the lock's value names, nil when it names none), or nobody.
    func bootstrapLock(heldSession: String?) throws -> (mine: Bool, holder: NodeAddress?) {
        guard let pair = try node.consul.getKV(ClusterNames.bootstrapLockKey), let session = pair.session, !session.isEmpty else {
            return (false, nil)
        }
        if session == heldSession { return (true, nil) }
        do {
            return (false, try NodeAddress(parsing: String(decoding: pair.value ?? [], as: UTF8.self)))
        } catch {
            node.refusals.reportAddress(from: "the bootstrap lock \(ClusterNames.bootstrapLockKey)'s value", error, to: node.logger)
            return (false, nil)
        }
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
            // A master_host that is not an address reads as an unknown master.
            let master = info.masterHost.flatMap { host in info.masterPort.flatMap { try? NodeAddress(host: host, port: $0) } }
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
        if case .master = answeredRole(address, listedAs: "master") { return true }
        return false
    }

    /// Whether the Redis at `address` answers ROLE as a replica. After a
    /// whole-cluster restart the catalog can still list the old replicas as
    /// live: taken at their word, they would keep a node with no data from
    /// restoring the last backup.
    func answersAsReplica(_ address: NodeAddress) -> Bool {
        if case .replica = answeredRole(address, listedAs: "replica") { return true }
        return false
    }

    private func answeredRole(_ address: NodeAddress, listedAs listed: String) -> RedisRole? {
        do {
            let client = try RedisClient.connect(
                to: .tcp(host: address.host, port: address.port), credentials: node.credentials, timeout: min(node.redisTimeout, 1))
            defer { client.close() }
            return try client.role()
        } catch {
            node.logger.debug("listed \(listed) did not answer ROLE", ["redis": address, "error": "\(error)"])
            return nil
        }
    }

    /// How many of the sentinels Consul lists as passing the local Sentinel
    /// flags down, or of all it knows when Consul does not answer; nil when
    /// the local Sentinel does not answer.
    func localSentinelReach() -> SentinelReach? {
        do {
            let alive = (try? passing(ClusterNames.sentinelService)).map(Set.init)
            let sentinel = try node.sentinel()
            defer { sentinel.close() }
            let peers = try sentinel.sentinels(name: ClusterNames.masterName)
            let cutOff = peers.filter { peer in
                peer.isDown && (alive.map { alive in peer.address.map(alive.contains) ?? false } ?? true)
            }.count
            return SentinelReach(known: peers.count + 1, cutOff: cutOff)
        } catch {
            node.logger.debug("sentinel reach unknown", ["error": "\(error)"])
            return nil
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
