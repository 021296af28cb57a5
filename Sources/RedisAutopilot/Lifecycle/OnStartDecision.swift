/// What onStart saw of the cluster in one observation, before redis-server runs.
public struct OnStartSnapshot: Sendable, Equatable {
    /// This node's announced Redis address.
    public var me: NodeAddress
    /// `redis` instances Consul reports passing.
    public var passingMasters: [NodeAddress]
    /// Every `redis` instance in the catalog, passing or not.
    public var registeredMasters: [NodeAddress]
    /// One answer per reachable sentinel: the master it names.
    public var sentinelMasters: [NodeAddress]
    /// Whether this node holds the bootstrap lock.
    public var holdsBootstrapLock: Bool
    /// Seconds already spent waiting for a registered master to pass.
    public var waitedForMaster: Double

    public init(me: NodeAddress, passingMasters: [NodeAddress] = [], registeredMasters: [NodeAddress] = [],
                sentinelMasters: [NodeAddress] = [], holdsBootstrapLock: Bool = false, waitedForMaster: Double = 0) {
        self.me = me
        self.passingMasters = passingMasters
        self.registeredMasters = registeredMasters
        self.sentinelMasters = sentinelMasters
        self.holdsBootstrapLock = holdsBootstrapLock
        self.waitedForMaster = waitedForMaster
    }
}

public enum OnStartStep: Sendable, Equatable {
    /// Write the configuration as a replica of this master; done.
    case becomeReplica(of: NodeAddress)
    /// A master is registered but not passing yet: observe again shortly.
    case waitForMaster
    /// Nobody is master: take the bootstrap lock, then observe again.
    case acquireBootstrapLock
    /// Holding the lock and still no master: write the configuration as master; done.
    case becomeMaster
}

public struct OnStartPlan: Sendable, Equatable {
    public var step: OnStartStep
    /// One sentence: what was seen and what is done.
    public var reason: String
}

/// Chooses this node's role before redis-server starts, so a node never comes
/// up as a second writable master.
public enum OnStartDecision {
    public static func decide(_ seen: OnStartSnapshot, masterWaitTimeout: Double) -> OnStartPlan {
        let me = seen.me
        let otherPassing = Array(Set(seen.passingMasters.filter { $0 != me })).sorted()
        let sentinelChoice = seen.sentinelMasters.mostNamed()

        // Sentinel is the authority on who is master after a failover; Consul
        // follows it within one health run. When they disagree, following
        // Sentinel's choice is safe: Sentinel reconfigures replicas it manages.
        if let choice = sentinelChoice, choice.address != me {
            return OnStartPlan(
                step: .becomeReplica(of: choice.address),
                reason: "sentinels name \(choice.address) master (\(choice.votes) of \(seen.sentinelMasters.count) answers); "
                    + "Consul passing masters: \(seen.passingMasters.listed); starting as its replica")
        }
        if let master = otherPassing.first {
            let note = otherPassing.count > 1
                ? "; more than one passing master (\(otherPassing.listed)), following the first in address order"
                : ""
            let sentinelNote = sentinelChoice.map { " although sentinels still name this node (\($0.votes) answers)" } ?? ""
            return OnStartPlan(
                step: .becomeReplica(of: master),
                reason: "Consul reports \(master) as passing master\(sentinelNote)\(note); starting as its replica")
        }

        let pending = Array(Set(seen.registeredMasters.filter { $0 != me })).sorted()
        if let choice = sentinelChoice, choice.address == me {
            // Sentinels still name this node, so no failover happened while it
            // was down: taking the role back avoids a needless failover. The
            // lock still guards against a concurrent bootstrap.
            if !seen.holdsBootstrapLock {
                return OnStartPlan(
                    step: .acquireBootstrapLock,
                    reason: "sentinels name this node (\(me)) master and Consul has no other passing master; taking the bootstrap lock")
            }
            return OnStartPlan(
                step: .becomeMaster,
                reason: "sentinels name this node (\(me)) master, no other master passes in Consul and the bootstrap lock is held; starting as master")
        }
        if !pending.isEmpty && seen.waitedForMaster < masterWaitTimeout {
            return OnStartPlan(
                step: .waitForMaster,
                reason: "master registered but not passing (\(pending.listed)); waited \(Int(seen.waitedForMaster))s "
                    + "of MASTER_WAIT_TIMEOUT \(Int(masterWaitTimeout))s; waiting")
        }
        let waitNote = pending.isEmpty ? "no master registered" : "registered master \(pending.listed) did not pass within MASTER_WAIT_TIMEOUT"
        if !seen.holdsBootstrapLock {
            return OnStartPlan(
                step: .acquireBootstrapLock,
                reason: "no passing master in Consul and no sentinel answer naming one (\(waitNote)); taking the bootstrap lock")
        }
        return OnStartPlan(
            step: .becomeMaster,
            reason: "bootstrap lock held and still no passing master (\(waitNote)); starting as master")
    }
}
