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
    let node: NodeContext
    let hook: String
    /// This node's own Sentinel counts once it runs beside redis-server (a
    /// restart of the redis job); at onStart it has not started yet.
    let includeOwnSentinel: Bool
    let observer: ClusterObserver
    let lock: BootstrapLock

    init(node: NodeContext, hook: String, includeOwnSentinel: Bool) {
        self.node = node
        self.hook = hook
        self.includeOwnSentinel = includeOwnSentinel
        observer = ClusterObserver(node: node)
        lock = BootstrapLock(node: node)
    }

    /// Beyond the wait for a registered master, a lock held by a node that
    /// died is freed only after its session expires (up to twice its TTL) and
    /// the lock-delay passes.
    var budget: Double {
        node.settings.redis.masterWaitTimeout.inSeconds + 2 * BootstrapLock.sessionTTL + BootstrapLock.lockDelay + 10
    }

    func choose() throws -> RoleOutcome {
        let masterWait = node.settings.redis.masterWaitTimeout.inSeconds
        let started = Deadline.now
        let deadline = Deadline.after(seconds: budget)
        var failoverRequested = false
        var lastReason = "nothing observed"
        while !deadline.hasPassed {
            let (seen, reports) = try observe(elapsed: started.elapsedSeconds, failoverRequested: failoverRequested)
            let plan = RoleDecision.decide(seen, masterWaitTimeout: masterWait)
            if plan.reason != lastReason || plan.step != .wait {
                node.log(hook, plan.reason)
            }
            lastReason = plan.reason
            switch plan.step {
            case .becomeReplica(let master):
                return .replica(of: master)
            case .becomeMaster:
                return .master
            case .wait:
                pause(seconds: plan.recheckAfter)
            case .acquireBootstrapLock:
                if try !lock.acquire() {
                    node.log(hook, "bootstrap lock \(ClusterNames.bootstrapLockKey) is held by another node or in its lock-delay; observing again")
                    pause(seconds: 1)
                }
            case .requestFailover:
                failoverRequested = requestFailover(from: reports.filter { $0.master == node.announce }.map(\.sentinel))
                if !failoverRequested { pause(seconds: 1) }
            }
        }
        throw LifecycleError.bootstrapTimedOut(waitedSeconds: Int(started.elapsedSeconds), lastReason: lastReason)
    }

    /// The master role's preparation, under the bootstrap lock: the first
    /// master of an empty cluster restores the last backup. The lock is kept
    /// alive through the restore and must still be held at its end, or
    /// another node may be starting as master too.
    func prepareMaster() throws {
        let heartbeat = Heartbeat(every: BootstrapLock.sessionTTL / 3) { [lock] in
            if try !lock.renew() { throw LifecycleError.bootstrapLockLost(during: "while restoring the last backup") }
        }
        try BackupRestore(node: node, heartbeat: heartbeat).runOnBootstrap()
        guard lock.isHeldInConsul() else {
            throw LifecycleError.bootstrapLockLost(during: "before this node started as master")
        }
    }

    private func observe(elapsed: Double, failoverRequested: Bool) throws -> (RoleSnapshot, [SentinelReport]) {
        let reports = try observer.sentinelReports(includingOwn: includeOwnSentinel)
        let lockState = try observer.bootstrapLock(heldSession: lock.heldSession)
        let seen = RoleSnapshot(
            me: node.announce,
            passingMasters: try observer.passing(RoleService.master.name).filter(observer.answersAsMaster),
            registeredMasters: try observer.registered(RoleService.master.name),
            sentinelMasters: reports.compactMap(\.master),
            sentinelsFailingOver: reports.filter(\.failingOver).map(\.sentinel),
            sentinelsDoubtingMaster: reports.filter(\.doubtsMaster).map(\.sentinel),
            liveReplicas: try observer.live(RoleService.replica.name).filter { $0 != node.announce && observer.answersAsReplica($0) },
            localData: LocalData.evidence(in: LocalData.scan(node.settings.paths.dataDir)),
            holdsBootstrapLock: lockState.mine,
            bootstrapLockHolder: lockState.holder,
            bootstrapLockHolderIsMaster: lockState.holder.map(observer.answersAsMaster) ?? false,
            failoverRequested: failoverRequested,
            elapsed: elapsed)
        return (seen, reports)
    }

    /// SENTINEL FAILOVER needs no agreement from the other sentinels; the
    /// first that accepts starts it. False when none did (no replica it can
    /// promote yet, a failover already starting): the next observation says.
    private func requestFailover(from sentinels: [NodeAddress]) -> Bool {
        for address in sentinels {
            do {
                let sentinel = address == node.sentinelAnnounce ? try node.sentinel() : try node.sentinel(at: address)
                defer { sentinel.close() }
                try sentinel.failover(name: ClusterNames.masterName)
                node.log(hook, "sentinel \(address) accepted SENTINEL FAILOVER \(ClusterNames.masterName)")
                return true
            } catch {
                node.log(hook, "sentinel \(address) refused SENTINEL FAILOVER: \(error)", level: .warn)
            }
        }
        return false
    }
}
