/// What one of the other sentinels knows about the monitored master.
struct SentinelView: Sendable, Equatable {
    var sentinel: NodeAddress
    var failoverInProgress: Bool
    var replicas: [NodeAddress]
    var sentinels: [NodeAddress]
    /// Replicas and sentinels it lists that a reset sentinel would not find
    /// again now, so no sentinel is expected to know them: those it flags
    /// down (s_down, o_down, disconnected: gone or failed), and replicas
    /// whose link to their master is down (the master's INFO, where the
    /// replicas are found, lists only those replicating from it; a replica
    /// left on a departed master is one until Sentinel repoints it).
    var detached: Set<NodeAddress>

    init(sentinel: NodeAddress, failoverInProgress: Bool, replicas: [NodeAddress], sentinels: [NodeAddress],
                detached: Set<NodeAddress> = []) {
        self.sentinel = sentinel
        self.failoverInProgress = failoverInProgress
        self.replicas = replicas
        self.sentinels = sentinels
        self.detached = detached
    }
}

enum ResetStep: Sendable, Equatable {
    /// Reset these sentinels now, all in this step.
    case reset([NodeAddress])
    case wait
    case done
}

struct ResetPlan: Sendable, Equatable, HookPlan {
    var step: ResetStep
    var reason: String

    var level: LogLevel { step == .wait ? .debug : .info }
}

/// Makes the other sentinels forget this node without ever leaving the
/// cluster unable to fail over.
///
/// SENTINEL RESET drops every replica and sentinel a sentinel knows. It
/// relearns the sentinels from their hello messages (every 2 s) but the
/// replicas only from the master's INFO (every 10 s), and only while the
/// master is up. A reset sentinel still votes (IS-MASTER-DOWN-BY-ADDR asks
/// nothing about replicas), so resets never stop a failover from being
/// authorised; what they endanger is who leads it. The first sentinel to
/// ask wins an epoch's votes, and a leader that knows no replica aborts
/// (-failover-abort-no-good-slave) and holds every sentinel that voted for
/// it back for twice the failover timeout. Resetting all of them at once
/// (as the original did) left none that could ever lead: with the master
/// gone they never relearn the replicas.
///
/// So at every moment the sentinels that know the whole cluster (never
/// reset, or reset and rediscovered every live replica and sentinel) stay
/// a majority of all sentinels: at most `total - majority` (at least one)
/// may be rediscovering at once, and the next are reset as soon as there is
/// room. A sentinel that knows the replicas is then more likely than not to
/// win each election, and if the master dies mid-way (those rediscovering
/// then never finish) the majority that knows them is still there for the
/// next attempt. Against one at a time, this does not add exposure, it
/// packs it: as many sentinel-seconds without the replicas, in fewer
/// seconds.
///
/// Redis's documentation asks for 30 s between resets when removing a
/// Sentinel: a fixed delay long enough for one sentinel to rediscover
/// everything (INFO every 10 s, hellos every 2 s) before the next forgets.
/// This decision watches for that rediscovery itself (SENTINEL REPLICAS and
/// SENTINELS of every sentinel) instead of guessing it, which is what the
/// delay stands for and what keeps six remaining sentinels within preStop's
/// budget (30 s each would take 150 s).
///
/// Sentinels that do not remember this node are never reset: those already
/// reset would only start rediscovering again, and nothing makes them learn
/// a node whose servers are stopped.
enum SentinelResetDecision {
    /// `asked`: how many sentinels preStop asked for a view (every other
    /// sentinel Consul lists); those that did not answer count as not
    /// knowing the cluster.
    static func next(views: [SentinelView], asked: Int, myRedis: NodeAddress, mySentinel: NodeAddress) -> ResetPlan {
        if let busy = views.first(where: \.failoverInProgress) {
            return ResetPlan(step: .wait, reason: "sentinel \(busy.sentinel) reports a failover in progress; no reset until it ends")
        }
        let answering = Set(views.map(\.sentinel))
        let liveReplicas = Set(views.flatMap { view in view.replicas.filter { !view.detached.contains($0) } })
            .subtracting([myRedis])
        let liveSentinels = Set(views.flatMap { view in view.sentinels.filter { !view.detached.contains($0) } })
            .union(answering).subtracting([mySentinel])
        let total = max(asked, liveSentinels.count)
        let majority = total / 2 + 1
        let atOnce = max(1, total - majority)

        func remembersMe(_ view: SentinelView) -> Bool {
            view.replicas.contains(myRedis) || view.sentinels.contains(mySentinel)
        }
        func unknown(to view: SentinelView) -> (replicas: Set<NodeAddress>, sentinels: Set<NodeAddress>) {
            (liveReplicas.subtracting(view.replicas), liveSentinels.subtracting(view.sentinels).subtracting([view.sentinel]))
        }
        // A sentinel that still lists this node was not reset here; whatever
        // else it lacks, waiting will not change it.
        func isRediscovering(_ view: SentinelView) -> Bool {
            let missing = unknown(to: view)
            return !remembersMe(view) && !(missing.replicas.isEmpty && missing.sentinels.isEmpty)
        }
        func progress(_ view: SentinelView) -> String {
            let missing = unknown(to: view)
            let all = missing.replicas.union(missing.sentinels)
            return "\(view.sentinel) (\(liveReplicas.count - missing.replicas.count) of \(liveReplicas.count) replicas, "
                + "\(liveSentinels.count - 1 - missing.sentinels.count) of \(liveSentinels.count - 1) sentinels"
                + (all.count <= 2 ? "; not yet \(Array(all).listed))" : ")")
        }

        let rediscovering = views.filter(isRediscovering).sorted { $0.sentinel < $1.sentinel }
        let remembering = views.filter(remembersMe).map(\.sentinel).sorted()
        let silent = total - answering.count
        let seen = "\(total) sentinels (majority \(majority), \(atOnce) may rediscover at once)"
            + (silent > 0 ? ", \(silent) not answering" : "")
            + (rediscovering.isEmpty ? "" : ", rediscovering: \(rediscovering.map(progress).joined(separator: ", "))")
        guard !remembering.isEmpty else {
            // The last ones reset relearn on their own; nothing is left that
            // waiting for them would protect.
            return ResetPlan(step: .done, reason: "no sentinel lists this node any more; \(seen)")
        }
        var room = atOnce - rediscovering.count - silent
        if rediscovering.isEmpty {
            // One at a time is always allowed, as it was before batches:
            // a sentinel that does not answer is no reason to keep the others
            // listing this node.
            room = max(room, 1)
        }
        guard room > 0 else {
            return ResetPlan(step: .wait, reason: "\(seen); still listing this node: \(remembering.listed); waiting until fewer are rediscovering")
        }
        let targets = Array(remembering.prefix(room))
        return ResetPlan(step: .reset(targets), reason: "\(seen); still listing this node: \(remembering.listed); resetting \(targets.listed)")
    }
}
