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

/// Reads the cluster as the sentinels and this node's servers see it, for
/// the observe phase of the hooks. Observation only: nothing here changes
/// anything.
struct ClusterObserver {
    let cluster: ClusterPort
    let node: NodePort
    let identity: NodeIdentity
    let log: HookLog

    /// How long a node Consul lists may take to answer ROLE.
    static let peerRoleLimit: Duration = .seconds(1)

    /// What each reachable sentinel of the cluster says of the master; a
    /// sentinel that does not answer is left out (and said so at DEBUG).
    func sentinelReports(includingOwn: Bool) throws -> [SentinelReport] {
        var addresses = try cluster.passing(ClusterNames.sentinelService).filter { $0 != identity.sentinelAnnounce }
        if includingOwn { addresses.insert(identity.sentinelAnnounce, at: 0) }
        var reports: [SentinelReport] = []
        for address in addresses {
            do {
                let answer = try node.sentinelMaster(at: address == identity.sentinelAnnounce ? nil : address)
                reports.append(SentinelReport(
                    sentinel: address, master: answer.master, failingOver: answer.failingOver, doubtsMaster: answer.doubtsMaster))
            } catch let RedisError.invalidAddress(_, command, error) {
                log.refuse("sentinel \(address) (\(command)) names an address that is not one: \(error); ignoring it")
            } catch let error as RedisError where error.isProtocolViolation {
                // Not a peer that went away: one that sends what no sentinel does.
                log.refuse("sentinel \(address) answered with what no sentinel sends: \(error); ignoring it")
            } catch {
                log.debug("sentinel did not answer", "sentinel", address, error: "\(error)")
            }
        }
        return reports
    }

    /// Who holds the bootstrap lock: this node (its session), another (the
    /// address the lock's value names, nil when it names none), or nobody.
    func bootstrapLock(_ lock: ClusterLock) throws -> (mine: Bool, holder: NodeAddress?) {
        switch try lock.state() {
        case .free: return (false, nil)
        case .mine: return (true, nil)
        case .other(let value):
            do {
                return (false, try NodeAddress(parsing: value ?? ""))
            } catch {
                log.refuse("the bootstrap lock \(ClusterNames.bootstrapLockKey)'s value names an address that is not one: \(error); ignoring it")
                return (false, nil)
            }
        }
    }

    /// Redis's role, reduced for the decisions; any failure to answer is
    /// `.unreachable` with the reason.
    func localRedis() -> (observation: RedisObservation, info: RedisInfo?) {
        do {
            let info = try node.redisInfo()
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
        answers(address, as: .master)
    }

    /// Whether the Redis at `address` answers ROLE as a replica. After a
    /// whole-cluster restart the catalog can still list the old replicas as
    /// live: taken at their word, they would keep a node with no data from
    /// restoring the last backup.
    func answersAsReplica(_ address: NodeAddress) -> Bool {
        answers(address, as: .replica)
    }

    private func answers(_ address: NodeAddress, as listed: PeerRole) -> Bool {
        let role = node.peerRole(address, within: Self.peerRoleLimit)
        if role != listed {
            log.debug("listed \(listed) did not answer ROLE as \(listed)", "redis", address, error: "answered \(role)")
        }
        return role == listed
    }

    /// How many of the sentinels Consul lists as passing the local Sentinel
    /// flags down, or of all it knows when Consul does not answer; nil when
    /// the local Sentinel does not answer.
    func localSentinelReach() -> SentinelReach? {
        do {
            let alive = (try? cluster.passing(ClusterNames.sentinelService)).map(Set.init)
            let peers = try node.sentinelPeers()
            let cutOff = peers.filter { peer in
                peer.isDown && (alive.map { alive in peer.address.map(alive.contains) ?? false } ?? true)
            }.count
            return SentinelReach(known: peers.count + 1, cutOff: cutOff)
        } catch {
            log.debug("sentinel reach unknown", "sentinel", identity.sentinelAnnounce, error: "\(error)")
            return nil
        }
    }

    /// The local Sentinel's master, nil when it does not answer.
    func localSentinelMaster() -> NodeAddress? {
        do {
            return try node.sentinelMaster(at: nil).master
        } catch {
            log.debug("local sentinel did not answer", "sentinel", identity.sentinelAnnounce, error: "\(error)")
            return nil
        }
    }
}
