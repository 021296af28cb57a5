/// What preStop saw of this node before it goes away.
struct PreStopSnapshot: Sendable, Equatable {
    var redis: RedisObservation
    /// Replicas the master reports online, with the replication offset each acknowledged.
    var onlineReplicas: [NodeAddress: Int64]
    var masterOffset: Int64
    /// Whether the local Sentinel answered, and whether it is already failing over.
    var sentinelReachable: Bool
    var failoverInProgress: Bool

    init(redis: RedisObservation, onlineReplicas: [NodeAddress: Int64] = [:], masterOffset: Int64 = 0,
                sentinelReachable: Bool = true, failoverInProgress: Bool = false) {
        self.redis = redis
        self.onlineReplicas = onlineReplicas
        self.masterOffset = masterOffset
        self.sentinelReachable = sentinelReachable
        self.failoverInProgress = failoverInProgress
    }
}

enum HandoverStep: Sendable, Equatable {
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

struct HandoverPlan: Sendable, Equatable {
    var step: HandoverStep
    var reason: String
}

/// Writes paused by preStop: the master's offset once the pause held (every
/// acknowledged write is at or below it) and how long ago that was.
struct WritePause: Sendable, Equatable {
    var offset: Int64
    var held: Duration

    init(offset: Int64, held: Duration) {
        self.offset = offset
        self.held = held
    }
}

/// Hands the master role over before this node stops, so that clients see a
/// new master at once and no acknowledged write is left only on this node.
enum PreStopDecision {
    /// Sentinel promotes the replica it judges best, not the one preStop saw
    /// caught up, so the failover waits until every online replica holds every
    /// acknowledged write. Replicas acknowledge their offset once a second; a
    /// replica still behind after `catchUpLimit` seconds of pause is lagging
    /// for good, and the failover goes ahead with the caught-up ones.
    static func handover(_ seen: PreStopSnapshot, pause: WritePause?, catchUpLimit: Duration) -> HandoverPlan {
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
            return HandoverPlan(
                step: .pauseWrites,
                reason: "master at offset \(seen.masterOffset) with replicas \(offsets); pausing writes so the replicas catch up before failover")
        }
        let caughtUp = seen.onlineReplicas.filter { $0.value >= pause.offset }.keys.sorted()
        let behind = seen.onlineReplicas.filter { $0.value < pause.offset }.keys.sorted()
        if behind.isEmpty {
            return HandoverPlan(
                step: .requestFailover,
                reason: "writes paused at offset \(pause.offset); every online replica caught up (\(offsets)); requesting a Sentinel failover")
        }
        if !caughtUp.isEmpty && pause.held >= catchUpLimit {
            return HandoverPlan(
                step: .requestFailover,
                reason: "writes paused at offset \(pause.offset) for \(Int(pause.held.inSeconds))s; caught up: \(caughtUp.listed), still behind: "
                    + "\(behind.listed) (writes after its offset are lost if Sentinel promotes it); requesting a Sentinel failover")
        }
        return HandoverPlan(
            step: .waitForReplicas,
            reason: "writes paused at offset \(pause.offset), replicas at \(offsets); waiting for every replica to catch up")
    }
}

/// What preStop sees while Sentinel fails this node over.
struct HandoverProgress: Sendable, Equatable {
    var me: NodeAddress
    /// The master this node's Sentinel names, nil when it did not answer.
    var localMaster: NodeAddress?
    var localFailoverInProgress: Bool
    /// The master each other sentinel that answered names.
    var otherSentinelsMasters: [NodeAddress]
    /// Sentinels of the cluster, this node's included.
    var sentinelCount: Int
    /// The node the local Sentinel names answers INFO as a master.
    var namedAnswersAsMaster: Bool
    /// How many of the peers that could finish a handover still answer: the
    /// replicas that were online when it began, and the other sentinels.
    var livePeers: Int

    init(me: NodeAddress, localMaster: NodeAddress?, localFailoverInProgress: Bool, otherSentinelsMasters: [NodeAddress],
                sentinelCount: Int, namedAnswersAsMaster: Bool, livePeers: Int = 1) {
        self.me = me
        self.localMaster = localMaster
        self.localFailoverInProgress = localFailoverInProgress
        self.otherSentinelsMasters = otherSentinelsMasters
        self.sentinelCount = sentinelCount
        self.namedAnswersAsMaster = namedAnswersAsMaster
        self.livePeers = livePeers
    }
}

/// What one cycle of preStop's handover saw: this node's master and its
/// replicas until a failover is requested or found running, then how far
/// the sentinels have got with it.
enum HandoverSeen: Sendable, Equatable {
    case local(PreStopSnapshot, pause: WritePause?)
    case progress(HandoverProgress)
}

enum HandoverCycleStep: Sendable, Equatable {
    /// The handover stage is over: a new master is known beyond this node,
    /// or there is nothing to hand over.
    case finished(handedOver: Bool)
    case pauseWrites
    case requestFailover
    /// A failover is already running: follow its progress from now on.
    case followFailover
    case observeAgain(after: Duration)
}

struct HandoverCyclePlan: Sendable, Equatable, HookPlan {
    var step: HandoverCycleStep
    var reason: String
}

extension PreStopDecision {
    /// One cycle of the handover stage, from that cycle's snapshot alone.
    static func handoverCycle(_ seen: HandoverSeen, catchUpLimit: Duration) -> HandoverCyclePlan {
        switch seen {
        case .progress(let progress):
            let (done, reason) = handoverDone(progress)
            return HandoverCyclePlan(step: done ? .finished(handedOver: true) : .observeAgain(after: .milliseconds(100)), reason: reason)
        case let .local(snapshot, pause):
            let plan = handover(snapshot, pause: pause, catchUpLimit: catchUpLimit)
            let step: HandoverCycleStep
            switch plan.step {
            case .skip: step = .finished(handedOver: false)
            case .awaitRunningFailover: step = .followFailover
            case .pauseWrites: step = .pauseWrites
            case .waitForReplicas: step = .observeAgain(after: .milliseconds(50))
            case .requestFailover: step = .requestFailover
            }
            return HandoverCyclePlan(step: step, reason: plan.reason)
        }
    }

    /// The handover is done once the new master is known beyond this node.
    /// While the leader reconfigures replicas, Sentinel already names the
    /// promoted replica, but the other sentinels learn the switch only from
    /// the leader's hello messages afterwards: stopping this node's Sentinel
    /// then (if it leads) leaves them on the old master, unable to fail over
    /// again because the promoted replica no longer reports as a replica.
    static func handoverDone(_ seen: HandoverProgress) -> (done: Bool, reason: String) {
        if seen.livePeers == 0 {
            // The whole cluster is stopping (or this node is cut off): none of
            // the replicas that could be promoted and none of the other
            // sentinels answers. Waiting out FAILOVER_WAIT_TIMEOUT would only
            // hold the container.
            return (true, "no live peer left: neither the replicas that were online nor any other sentinel answers; "
                + "nobody can take over, leaving now")
        }
        guard let named = seen.localMaster, named != seen.me else {
            return (false, "this node's Sentinel still names this node master")
        }
        if seen.localFailoverInProgress {
            return (false, "this node's Sentinel is still failing over to \(named)")
        }
        if !seen.namedAnswersAsMaster {
            return (false, "Sentinel names \(named) but it does not answer as master yet")
        }
        let agreeing = 1 + seen.otherSentinelsMasters.filter { $0 == named }.count
        let majority = seen.sentinelCount / 2 + 1
        if agreeing < majority {
            return (false, "\(agreeing) of \(seen.sentinelCount) sentinels name \(named); waiting for a majority (\(majority)) before this node's Sentinel stops")
        }
        return (true, "\(agreeing) of \(seen.sentinelCount) sentinels name \(named) master and it answers as master; handover done")
    }
}
