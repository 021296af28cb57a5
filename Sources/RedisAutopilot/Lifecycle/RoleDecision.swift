/// What a node saw of the cluster in one observation, before its redis-server
/// starts: at onStart, and again at every start of the redis job.
struct RoleSnapshot: Sendable, Equatable {
    /// This node's announced Redis address.
    var me: NodeAddress
    /// `redis` instances Consul reports passing that answer ROLE as master.
    var passingMasters: [NodeAddress]
    /// Every `redis` instance in the catalog, passing or not.
    var registeredMasters: [NodeAddress]
    /// One answer per reachable sentinel: the master it names.
    var sentinelMasters: [NodeAddress]
    /// Sentinels that report a failover of the master in progress.
    var sentinelsFailingOver: [NodeAddress]
    /// Sentinels that flag the master they name down, or have not heard from
    /// it for half their down-after (`SentinelMaster.doubtsMaster`).
    var sentinelsDoubtingMaster: [NodeAddress]
    /// Other nodes' `redis-replica` instances whose checks are not critical
    /// and that answer ROLE as replica: replicas that live and hold what they
    /// last replicated.
    var liveReplicas: [NodeAddress]
    /// What REDIS_DATA_DIR holds (`LocalData.evidence`); empty: no data.
    var localData: [String]
    /// Whether this node holds the bootstrap lock.
    var holdsBootstrapLock: Bool
    /// Another node holding the bootstrap lock: the address its value names,
    /// the master-to-be of a cluster being bootstrapped (as Patroni's leader
    /// key names the leader).
    var bootstrapLockHolder: NodeAddress?
    /// Whether that holder's redis-server answers ROLE as master yet.
    var bootstrapLockHolderIsMaster: Bool
    /// This node already asked Sentinel to promote a replica in this run.
    var failoverRequested: Bool
    /// Time since this decision loop began.
    var elapsed: Duration
    /// What onStart writes into sentinel.conf, observed with the rest (nil
    /// where it is not needed): `redis-replica` instances passing, and the
    /// raw values of the quorum and failover-timeout keys (nil: absent).
    var sentinelSettings: SentinelSettingsSeen?

    init(me: NodeAddress, passingMasters: [NodeAddress] = [], registeredMasters: [NodeAddress] = [],
                sentinelMasters: [NodeAddress] = [], sentinelsFailingOver: [NodeAddress] = [],
                sentinelsDoubtingMaster: [NodeAddress] = [], liveReplicas: [NodeAddress] = [],
                localData: [String] = [], holdsBootstrapLock: Bool = false, bootstrapLockHolder: NodeAddress? = nil,
                bootstrapLockHolderIsMaster: Bool = false, failoverRequested: Bool = false, elapsed: Duration = .zero) {
        self.me = me
        self.passingMasters = passingMasters
        self.registeredMasters = registeredMasters
        self.sentinelMasters = sentinelMasters
        self.sentinelsFailingOver = sentinelsFailingOver
        self.sentinelsDoubtingMaster = sentinelsDoubtingMaster
        self.liveReplicas = liveReplicas
        self.localData = localData
        self.holdsBootstrapLock = holdsBootstrapLock
        self.bootstrapLockHolder = bootstrapLockHolder
        self.bootstrapLockHolderIsMaster = bootstrapLockHolderIsMaster
        self.failoverRequested = failoverRequested
        self.elapsed = elapsed
    }
}

enum RoleStep: Sendable, Equatable {
    /// Write the configuration as a replica of this master; done.
    case becomeReplica(of: NodeAddress)
    /// Holding the lock and no other master: take the master role; done.
    case becomeMaster
    /// Nobody is master: take the bootstrap lock, then observe again.
    case acquireBootstrapLock
    /// Sentinels name this node, which has lost its data while replicas hold
    /// theirs: ask Sentinel to promote one of them, then observe again.
    case requestFailover
    /// Nothing to decide yet (a master registered but not passing, a failover
    /// running): observe again shortly.
    case wait
}

struct RolePlan: Sendable, Equatable, HookPlan {
    var step: RoleStep
    /// One sentence: what was seen and what is done.
    var reason: String
    /// How long a `.wait` lasts before the next observation.
    var recheckAfter: Duration = .seconds(1)
}

/// Chooses this node's role before its redis-server accepts a connection, so
/// a node never comes up as a second writable master, and never as a master
/// with less data than the replicas that would copy it.
enum RoleDecision {
    static func decide(_ seen: RoleSnapshot, masterWaitTimeout: Duration) -> RolePlan {
        let me = seen.me
        let otherPassing = Array(Set(seen.passingMasters.filter { $0 != me })).sorted()
        let sentinelChoice = seen.sentinelMasters.mostNamed()

        // A failover moves the role while it runs: a choice made now could
        // follow the master it is replacing.
        if !seen.sentinelsFailingOver.isEmpty {
            return RolePlan(
                step: .wait,
                reason: "sentinels \(seen.sentinelsFailingOver.sorted().listed) report a failover in progress; "
                    + "waiting for its outcome before choosing a role")
        }
        // Sentinel is the authority on who is master after a failover; Consul
        // follows it within one health run. When they disagree, following
        // Sentinel's choice is safe: Sentinel reconfigures replicas it manages.
        if let choice = sentinelChoice, choice.address != me {
            return RolePlan(
                step: .becomeReplica(of: choice.address),
                reason: "sentinels name \(choice.address) master (\(choice.votes) of \(seen.sentinelMasters.count) answers); "
                    + "Consul passing masters: \(seen.passingMasters.listed); starting as its replica")
        }
        if let master = otherPassing.first {
            let note = otherPassing.count > 1
                ? "; more than one passing master (\(otherPassing.listed)), following the first in address order"
                : ""
            let sentinelNote = sentinelChoice.map { " although sentinels still name this node (\($0.votes) answers)" } ?? ""
            return RolePlan(
                step: .becomeReplica(of: master),
                reason: "Consul reports \(master) as passing master\(sentinelNote)\(note); starting as its replica")
        }

        let replicas = Array(Set(seen.liveReplicas.filter { $0 != me })).sorted()
        let dataless = seen.localData.isEmpty && !replicas.isEmpty
        if let choice = sentinelChoice, choice.address == me {
            // Sentinels still name this node, so no failover happened while it
            // was down: taking the role back avoids a needless failover, unless
            // its data is gone and its replicas would copy the emptiness.
            if dataless {
                if seen.failoverRequested {
                    return RolePlan(
                        step: .wait,
                        reason: "sentinels still name this node (\(me)) master; its data dir is empty and replicas \(replicas.listed) "
                            + "hold data; failover requested, waiting for Sentinel to promote one")
                }
                return RolePlan(
                    step: .requestFailover,
                    reason: "sentinels name this node (\(me)) master but its data dir is empty while replicas \(replicas.listed) "
                        + "hold data; asking Sentinel to promote one instead of resyncing them from nothing")
            }
            // A server restarted after it hung: the sentinels may be about to
            // fail it over, and coming back writable now would make two
            // masters until Sentinel demotes it. Wait for their verdict, unless
            // nobody could take over.
            let doubting = Array(Set(seen.sentinelsDoubtingMaster)).sorted()
            if !doubting.isEmpty && !replicas.isEmpty && seen.elapsed < masterWaitTimeout {
                return RolePlan(
                    step: .wait,
                    reason: "sentinels name this node (\(me)) master, but \(doubting.listed) flag it down or have not heard from it "
                        + "for half their down-after while replicas \(replicas.listed) live: a failover may be starting; waiting "
                        + "for the sentinels' verdict (\(Int(seen.elapsed.inSeconds))s of MASTER_WAIT_TIMEOUT \(Int(masterWaitTimeout.inSeconds))s)",
                    recheckAfter: .milliseconds(200))
            }
            return masterUnderLock(seen, seen: "sentinels name this node (\(me)) master and no other master passes in Consul")
        }
        // A cluster being bootstrapped: the lock's holder becomes master, so
        // the others replicate from it as soon as it answers as one instead of
        // waiting for Consul to list it passing. Following it earlier would
        // tie them to a node that may die before it ever serves; while it
        // does not answer, the lock (freed when its session goes) decides.
        if let holder = seen.bootstrapLockHolder, holder != me {
            if seen.bootstrapLockHolderIsMaster {
                return RolePlan(
                    step: .becomeReplica(of: holder),
                    reason: "no passing master in Consul and no sentinel names one; \(holder) holds the bootstrap lock and "
                        + "answers as master; starting as its replica")
            }
            // The holder starts serving within moments of taking the lock
            // (longer only while it restores a backup): look again soon.
            return RolePlan(
                step: .wait,
                reason: "no passing master in Consul and no sentinel names one; \(holder) holds the bootstrap lock but does not "
                    + "answer as master yet; waiting for it",
                recheckAfter: .milliseconds(200))
        }
        let pending = Array(Set(seen.registeredMasters.filter { $0 != me })).sorted()
        if !pending.isEmpty && seen.elapsed < masterWaitTimeout {
            return RolePlan(
                step: .wait,
                reason: "master registered but not passing (\(pending.listed)); waited \(Int(seen.elapsed.inSeconds))s "
                    + "of MASTER_WAIT_TIMEOUT \(Int(masterWaitTimeout.inSeconds))s; waiting")
        }
        if dataless {
            return RolePlan(
                step: .wait,
                reason: "no passing master and no sentinel names one, but replicas \(replicas.listed) hold data and this node "
                    + "has none; not starting as an empty master over them; waiting for a master (Sentinel or an operator must promote one)")
        }
        let waitNote = pending.isEmpty ? "no master registered" : "registered master \(pending.listed) did not pass within MASTER_WAIT_TIMEOUT"
        return masterUnderLock(seen, seen: "no passing master in Consul and no sentinel answer naming one (\(waitNote))")
    }

    /// The master role is taken only under the bootstrap lock, which guards
    /// against a concurrent bootstrap.
    private static func masterUnderLock(_ snapshot: RoleSnapshot, seen: String) -> RolePlan {
        snapshot.holdsBootstrapLock
            ? RolePlan(step: .becomeMaster, reason: "\(seen); the bootstrap lock is held: starting as master")
            : RolePlan(step: .acquireBootstrapLock, reason: "\(seen); taking the bootstrap lock")
    }
}
