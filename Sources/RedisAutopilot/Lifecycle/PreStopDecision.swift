/// What preStop saw of this node before it goes away.
public struct PreStopSnapshot: Sendable, Equatable {
    public var redis: RedisObservation
    /// Replicas the master reports online, with the replication offset each acknowledged.
    public var onlineReplicas: [NodeAddress: Int64]
    public var masterOffset: Int64
    /// Whether the local Sentinel answered, and whether it is already failing over.
    public var sentinelReachable: Bool
    public var failoverInProgress: Bool
    /// CLIENT PAUSE ... WRITE exists from Redis 6.2; before it a pause would
    /// also block Sentinel's own INFO and PING and look like an outage.
    public var canPauseWritesOnly: Bool

    public init(redis: RedisObservation, onlineReplicas: [NodeAddress: Int64] = [:], masterOffset: Int64 = 0,
                sentinelReachable: Bool = true, failoverInProgress: Bool = false, canPauseWritesOnly: Bool = true) {
        self.redis = redis
        self.onlineReplicas = onlineReplicas
        self.masterOffset = masterOffset
        self.sentinelReachable = sentinelReachable
        self.failoverInProgress = failoverInProgress
        self.canPauseWritesOnly = canPauseWritesOnly
    }
}

public enum HandoverStep: Sendable, Equatable {
    /// Nothing to hand over (a replica, a dead Redis, or no replica to take over).
    case skip
    /// A failover is already running: wait for it instead of starting another.
    case awaitRunningFailover
    /// Pause writes so the replicas can catch up to the last acknowledged write.
    case pauseWrites
    /// Replicas are not caught up yet: observe again.
    case waitForReplicas
    /// Every acknowledged write has reached a replica: ask Sentinel to fail over.
    case requestFailover
}

public struct HandoverPlan: Sendable, Equatable {
    public var step: HandoverStep
    public var reason: String
}

/// Writes paused by preStop: the master's offset once the pause held (every
/// acknowledged write is at or below it) and how long ago that was.
public struct WritePause: Sendable, Equatable {
    public var offset: Int64
    public var seconds: Double

    public init(offset: Int64, seconds: Double) {
        self.offset = offset
        self.seconds = seconds
    }
}

/// Hands the master role over before this node stops, so that clients see a
/// new master at once and no acknowledged write is left only on this node.
public enum PreStopDecision {
    /// Sentinel promotes the replica it judges best, not the one preStop saw
    /// caught up, so the failover waits until every online replica holds every
    /// acknowledged write. Replicas acknowledge their offset once a second; a
    /// replica still behind after `catchUpLimit` seconds of pause is lagging
    /// for good, and the failover goes ahead with the caught-up ones.
    public static func handover(_ seen: PreStopSnapshot, pause: WritePause?, catchUpLimit: Double) -> HandoverPlan {
        switch seen.redis {
        case let .unreachable(reason):
            return HandoverPlan(step: .skip, reason: "redis does not answer (\(reason)); nothing to hand over")
        case let .replica(master, _, _):
            return HandoverPlan(step: .skip, reason: "this node is a replica of \(master.map(\.description) ?? "unknown master"); no handover needed")
        case .master:
            break
        }
        if seen.onlineReplicas.isEmpty {
            return HandoverPlan(step: .skip, reason: "this node is master with no online replica; nobody can take over, writes stop until it returns")
        }
        if !seen.sentinelReachable {
            return HandoverPlan(step: .skip, reason: "this node is master but its sentinel does not answer; cannot request a failover")
        }
        if seen.failoverInProgress {
            return HandoverPlan(step: .awaitRunningFailover, reason: "a failover is already in progress; waiting for it")
        }
        let offsets = seen.onlineReplicas.keys.sorted().map { "\($0)@\(seen.onlineReplicas[$0] ?? 0)" }.joined(separator: ", ")
        guard let pause else {
            if seen.canPauseWritesOnly {
                return HandoverPlan(
                    step: .pauseWrites,
                    reason: "master at offset \(seen.masterOffset) with replicas \(offsets); pausing writes so the replicas catch up before failover")
            }
            // Before Redis 6.2 writes cannot be held, so no replica is ever
            // sure to have them all: the first one caught up is the best there is.
            let caughtUp = seen.onlineReplicas.filter { $0.value >= seen.masterOffset }.keys.sorted()
            if caughtUp.isEmpty {
                return HandoverPlan(
                    step: .waitForReplicas,
                    reason: "master at offset \(seen.masterOffset), replicas at \(offsets), writes cannot be paused before Redis 6.2; waiting for one to catch up")
            }
            return HandoverPlan(
                step: .requestFailover,
                reason: "master at offset \(seen.masterOffset); caught-up replicas: \(caughtUp.listed) (writes cannot be paused before Redis 6.2); requesting a Sentinel failover")
        }
        let caughtUp = seen.onlineReplicas.filter { $0.value >= pause.offset }.keys.sorted()
        let behind = seen.onlineReplicas.filter { $0.value < pause.offset }.keys.sorted()
        if behind.isEmpty {
            return HandoverPlan(
                step: .requestFailover,
                reason: "writes paused at offset \(pause.offset); every online replica caught up (\(offsets)); requesting a Sentinel failover")
        }
        if !caughtUp.isEmpty && pause.seconds >= catchUpLimit {
            return HandoverPlan(
                step: .requestFailover,
                reason: "writes paused at offset \(pause.offset) for \(Int(pause.seconds))s; caught up: \(caughtUp.listed), still behind: "
                    + "\(behind.listed) (writes after its offset are lost if Sentinel promotes it); requesting a Sentinel failover")
        }
        return HandoverPlan(
            step: .waitForReplicas,
            reason: "writes paused at offset \(pause.offset), replicas at \(offsets); waiting for every replica to catch up")
    }
}

/// What preStop sees while Sentinel fails this node over.
public struct HandoverProgress: Sendable, Equatable {
    public var me: NodeAddress
    /// The master this node's Sentinel names, nil when it did not answer.
    public var localNames: NodeAddress?
    public var localFailoverInProgress: Bool
    /// The master each other sentinel that answered names.
    public var othersName: [NodeAddress]
    /// Sentinels of the cluster, this node's included.
    public var sentinelCount: Int
    /// The node the local Sentinel names answers INFO as a master.
    public var namedAnswersAsMaster: Bool

    public init(me: NodeAddress, localNames: NodeAddress?, localFailoverInProgress: Bool, othersName: [NodeAddress],
                sentinelCount: Int, namedAnswersAsMaster: Bool) {
        self.me = me
        self.localNames = localNames
        self.localFailoverInProgress = localFailoverInProgress
        self.othersName = othersName
        self.sentinelCount = sentinelCount
        self.namedAnswersAsMaster = namedAnswersAsMaster
    }
}

extension PreStopDecision {
    /// The handover is done once the new master is known beyond this node.
    /// While the leader reconfigures replicas, Sentinel already names the
    /// promoted replica, but the other sentinels learn the switch only from
    /// the leader's hello messages afterwards: stopping this node's Sentinel
    /// then (if it leads) leaves them on the old master, unable to fail over
    /// again because the promoted replica no longer reports as a replica.
    public static func handoverDone(_ seen: HandoverProgress) -> (done: Bool, reason: String) {
        guard let named = seen.localNames, named != seen.me else {
            return (false, "this node's Sentinel still names this node master")
        }
        if seen.localFailoverInProgress {
            return (false, "this node's Sentinel is still failing over to \(named)")
        }
        if !seen.namedAnswersAsMaster {
            return (false, "Sentinel names \(named) but it does not answer as master yet")
        }
        let agreeing = 1 + seen.othersName.filter { $0 == named }.count
        let majority = seen.sentinelCount / 2 + 1
        if agreeing < majority {
            return (false, "\(agreeing) of \(seen.sentinelCount) sentinels name \(named); waiting for a majority (\(majority)) before this node's Sentinel stops")
        }
        return (true, "\(agreeing) of \(seen.sentinelCount) sentinels name \(named) master and it answers as master; handover done")
    }
}

/// What one of the other sentinels knows about the monitored master.
public struct SentinelView: Sendable, Equatable {
    public var sentinel: NodeAddress
    public var failoverInProgress: Bool
    public var replicas: [NodeAddress]
    public var sentinels: [NodeAddress]

    public init(sentinel: NodeAddress, failoverInProgress: Bool, replicas: [NodeAddress], sentinels: [NodeAddress]) {
        self.sentinel = sentinel
        self.failoverInProgress = failoverInProgress
        self.replicas = replicas
        self.sentinels = sentinels
    }
}

public enum ResetStep: Sendable, Equatable {
    case reset(NodeAddress)
    case wait
    case done
}

public struct ResetPlan: Sendable, Equatable {
    public var step: ResetStep
    public var reason: String
}

/// Makes the other sentinels forget this node, one at a time. A reset drops
/// every replica a sentinel knows until the master's INFO lists them again,
/// so resetting all at once (as the original did) can leave no sentinel able
/// to promote anyone.
public enum SentinelResetDecision {
    public static func next(views: [SentinelView], myRedis: NodeAddress, mySentinel: NodeAddress) -> ResetPlan {
        if let busy = views.first(where: \.failoverInProgress) {
            return ResetPlan(step: .wait, reason: "sentinel \(busy.sentinel) reports a failover in progress; no reset until it ends")
        }
        let expectedReplicas = views.map { $0.replicas.filter { $0 != myRedis }.count }.max() ?? 0
        let expectedSentinels = views.map { $0.sentinels.filter { $0 != mySentinel }.count }.max() ?? 0
        func remembersMe(_ view: SentinelView) -> Bool {
            view.replicas.contains(myRedis) || view.sentinels.contains(mySentinel)
        }
        func isRelearning(_ view: SentinelView) -> Bool {
            !remembersMe(view) && (view.replicas.count < expectedReplicas || view.sentinels.count < expectedSentinels)
        }
        let remembering = views.filter(remembersMe).map(\.sentinel).sorted()
        guard let target = remembering.first else {
            // The last reset sentinel relearns on its own; nothing is left
            // that waiting for it would protect.
            let relearning = views.filter(isRelearning).map(\.sentinel).sorted()
            let note = relearning.isEmpty ? "" : "; \(relearning.listed) still rediscovering the cluster"
            return ResetPlan(step: .done, reason: "no sentinel lists this node any more (\(views.count) checked)\(note)")
        }
        if let relearning = views.first(where: isRelearning) {
            return ResetPlan(
                step: .wait,
                reason: "sentinel \(relearning.sentinel) knows \(relearning.replicas.count) of \(expectedReplicas) replicas and "
                    + "\(relearning.sentinels.count) of \(expectedSentinels) sentinels; waiting for it to rediscover before resetting \(target)")
        }
        return ResetPlan(
            step: .reset(target),
            reason: "sentinels still listing this node: \(remembering.listed); resetting \(target)")
    }
}

/// Sentinel needs a majority of all sentinels, not just the quorum, to
/// authorise a failover.
public enum FailoverCapacity {
    public static func note(sentinels: Int, quorum: Int) -> String? {
        let majority = sentinels / 2 + 1
        if sentinels < 2 {
            return "only \(sentinels) sentinel known: a lone node has no replica to fail over to; run at least 3 nodes"
        }
        if sentinels < 3 {
            return "only \(sentinels) sentinel(s) known: a failover needs a majority (\(majority)) of them alive, so losing the master's node cannot be recovered automatically; run at least 3 nodes"
        }
        if quorum > sentinels {
            return "quorum \(quorum) is larger than the \(sentinels) sentinels known: the master can never be agreed down"
        }
        return nil
    }
}
