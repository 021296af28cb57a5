import Foundation

/// The role a node's redis-server starts in.
enum RoleOutcome: Sendable, Equatable {
    case master
    case replica(of: NodeAddress)
}

/// Observes the cluster, decides (`RoleDecision`) and acts until this node's
/// role is known. onStart runs it before the first start of redis-server and
/// `startRedis` before every start, so a server restarted by its job decides
/// again instead of coming back in the role it had.
struct RoleChooser {
    let observer: ClusterObserver
    let lock: ClusterLock
    let clock: HookClock
    let masterWaitTimeout: Duration
    let dataDir: String
    /// This node's own Sentinel counts once it runs beside redis-server (a
    /// restart of the redis job); at onStart it has not started yet.
    let includeOwnSentinel: Bool
    /// onStart writes sentinel.conf from the same observation as the role.
    var observesSentinelSettings = false

    var log: HookLog { observer.log }
    var identity: NodeIdentity { observer.identity }

    /// Beyond the wait for a registered master, a lock held by a node that
    /// died is freed only after its session expires (up to twice its TTL) and
    /// the lock-delay passes.
    var budget: Duration {
        masterWaitTimeout + ClusterLock.sessionTTL * 2 + ClusterLock.lockDelay + .seconds(10)
    }

    /// The role, and the last snapshot it was decided on.
    func choose() throws -> (outcome: RoleOutcome, seen: RoleSnapshot) {
        let started = clock.now
        var failoverRequested = false
        var last: (seen: RoleSnapshot, sentinelsNamingMe: [NodeAddress])?
        let outcome = try HookDriver(clock: clock, log: log).run(
            until: .after(budget, on: clock),
            observe: { elapsed -> RoleSnapshot in
                let observed = try observe(elapsed: elapsed, failoverRequested: failoverRequested)
                last = observed
                return observed.seen
            },
            decide: { RoleDecision.decide($0, masterWaitTimeout: masterWaitTimeout) },
            act: { plan -> CycleOutcome<RoleOutcome> in
                switch plan.step {
                case .becomeReplica(let master):
                    return .done(.replica(of: master))
                case .becomeMaster:
                    return .done(.master)
                case .wait:
                    return .again(after: plan.recheckAfter)
                case .acquireBootstrapLock:
                    if try lock.acquire() { return .again(after: .zero) }
                    log("bootstrap lock \(ClusterNames.bootstrapLockKey) is held by another node or in its lock-delay; observing again")
                    return .again(after: .seconds(1))
                case .requestFailover:
                    failoverRequested = requestFailover(from: last?.sentinelsNamingMe ?? [])
                    return .again(after: failoverRequested ? .zero : .seconds(1))
                }
            })
        guard let outcome, let seen = last?.seen else {
            let lastReason = last.map { RoleDecision.decide($0.seen, masterWaitTimeout: masterWaitTimeout).reason } ?? "nothing observed"
            throw LifecycleError.bootstrapTimedOut(waitedSeconds: Int((clock.now - started).inSeconds), lastReason: lastReason)
        }
        return (outcome, seen)
    }

    private func observe(elapsed: Duration, failoverRequested: Bool) throws -> (seen: RoleSnapshot, sentinelsNamingMe: [NodeAddress]) {
        let cluster = observer.cluster
        let reports = try observer.sentinelReports(includingOwn: includeOwnSentinel)
        let lockState = try observer.bootstrapLock(lock)
        var seen = RoleSnapshot(
            me: identity.announce,
            passingMasters: try cluster.passing(RoleService.master.name).filter(observer.answersAsMaster),
            registeredMasters: try cluster.registered(RoleService.master.name),
            sentinelMasters: reports.compactMap(\.master),
            sentinelsFailingOver: reports.filter(\.failingOver).map(\.sentinel),
            sentinelsDoubtingMaster: reports.filter(\.doubtsMaster).map(\.sentinel),
            liveReplicas: try cluster.live(RoleService.replica.name).filter { $0 != identity.announce && observer.answersAsReplica($0) },
            localData: LocalData.evidence(in: LocalData.scan(dataDir)),
            holdsBootstrapLock: lockState.mine,
            bootstrapLockHolder: lockState.holder,
            bootstrapLockHolderIsMaster: lockState.holder.map(observer.answersAsMaster) ?? false,
            failoverRequested: failoverRequested,
            elapsed: elapsed)
        if observesSentinelSettings {
            seen.sentinelSettings = SentinelSettingsSeen(
                passingReplicas: try cluster.passing(RoleService.replica.name),
                quorum: try cluster.setting(ClusterNames.quorumKey), failoverTimeout: try cluster.setting(ClusterNames.failoverTimeoutKey))
        }
        return (seen, reports.filter { $0.master == identity.announce }.map(\.sentinel))
    }

    /// SENTINEL FAILOVER needs no agreement from the other sentinels; the
    /// first that accepts starts it. False when none did (no replica it can
    /// promote yet, a failover already starting): the next observation says.
    private func requestFailover(from sentinels: [NodeAddress]) -> Bool {
        for address in sentinels {
            do {
                try observer.node.requestFailover(at: address == identity.sentinelAnnounce ? nil : address)
                log("sentinel \(address) accepted SENTINEL FAILOVER \(ClusterNames.masterName)")
                return true
            } catch {
                log("sentinel \(address) refused SENTINEL FAILOVER: \(error)", level: .warn)
            }
        }
        return false
    }
}

/// The master role's preparation, under the bootstrap lock: the first
/// master of an empty cluster restores the last backup. The lock is kept
/// alive through the restore and must still be held at its end, or another
/// node may be starting as master too.
struct MasterPreparation {
    let lock: ClusterLock
    let restore: (Heartbeat) throws -> Void

    func run() throws {
        let heartbeat = Heartbeat(every: (ClusterLock.sessionTTL / 3).inSeconds) { [lock] in
            if try !lock.renew() { throw LifecycleError.bootstrapLockLost(during: "while restoring the last backup") }
        }
        try restore(heartbeat)
        guard (try? lock.isHeld()) == true else {
            throw LifecycleError.bootstrapLockLost(during: "before this node started as master")
        }
    }
}
