import Foundation

/// A replica of the master, as the switchover sees it.
struct SwitchoverReplica: Sendable, Equatable {
    var address: NodeAddress
    /// `state=online` in the master's INFO.
    var online: Bool
    /// The highest replication offset it is known to hold: what it has
    /// processed itself (INFO on the replica, current) or, when it cannot be
    /// asked, what it last acknowledged to the master (once a second).
    var offset: Int64
    /// Sentinel flags it s_down, o_down or disconnected.
    var flaggedDown: Bool
    /// replica-priority as the sentinel that will lead reports it (0: never
    /// promoted); nil when that sentinel does not list the replica at all.
    var sentinelPriority: Int?
    /// Seconds since it last acknowledged (`lag` in the master's INFO).
    var ackAgeSeconds: Int?

    init(address: NodeAddress, online: Bool, offset: Int64, flaggedDown: Bool = false, sentinelPriority: Int? = 100,
                ackAgeSeconds: Int? = 0) {
        self.address = address
        self.online = online
        self.offset = offset
        self.flaggedDown = flaggedDown
        self.sentinelPriority = sentinelPriority
        self.ackAgeSeconds = ackAgeSeconds
    }

    /// Replicas acknowledge every second; one silent for longer is stuck or
    /// gone, though the master keeps it online until repl-timeout.
    static let silentAfter = 2

    var eligible: Bool { online && !flaggedDown && sentinelPriority != 0 }
    var silent: Bool { (ackAgeSeconds ?? 0) > Self.silentAfter }
}

/// What the switchover read before each step.
struct SwitchoverSnapshot: Sendable, Equatable {
    /// Sentinels Consul lists or that the sentinels know of, answering or not.
    var sentinelsKnown: Int
    /// The master each sentinel that answered names.
    var namedMasters: [NodeAddress]
    var failoverInProgress: Bool
    /// CKQUORUM of the sentinel that will be asked to fail over, nil when none answers.
    var quorum: SentinelQuorumCheck?
    /// The master before the switchover; nil until known.
    var master: NodeAddress?
    /// The master answers INFO as a master.
    var masterAnswers: Bool
    var masterOffset: Int64
    var replicas: [SwitchoverReplica]
    /// The master the sentinels name answers as master (after the failover).
    var namedAnswersAsMaster: Bool
    /// The master the sentinel asked to fail over names (it leads the
    /// failover, so it names the promoted replica first); nil when it did not answer.
    var leaderNames: NodeAddress?
    /// That master answers as master.
    var leaderNamedAnswersAsMaster: Bool
    /// The old master reports itself a replica.
    var oldMasterIsReplica: Bool
    /// Consul's passing `redis` instances, nil when Consul could not be read.
    var consulMasters: [NodeAddress]?

    init(sentinelsKnown: Int, namedMasters: [NodeAddress], failoverInProgress: Bool = false, quorum: SentinelQuorumCheck?,
                master: NodeAddress?, masterAnswers: Bool, masterOffset: Int64 = 0, replicas: [SwitchoverReplica] = [],
                namedAnswersAsMaster: Bool = false, leaderNames: NodeAddress? = nil, leaderNamedAnswersAsMaster: Bool = false,
                oldMasterIsReplica: Bool = false, consulMasters: [NodeAddress]? = nil) {
        self.sentinelsKnown = sentinelsKnown
        self.namedMasters = namedMasters
        self.failoverInProgress = failoverInProgress
        self.quorum = quorum
        self.master = master
        self.masterAnswers = masterAnswers
        self.masterOffset = masterOffset
        self.replicas = replicas
        self.namedAnswersAsMaster = namedAnswersAsMaster
        self.leaderNames = leaderNames
        self.leaderNamedAnswersAsMaster = leaderNamedAnswersAsMaster
        self.oldMasterIsReplica = oldMasterIsReplica
        self.consulMasters = consulMasters
    }
}

/// Where the switchover is; each phase is entered by acting on a step.
enum SwitchoverPhase: Sendable, Equatable {
    /// Nothing changed yet.
    case checking
    /// The other replicas' priorities are 0 (with --to); Sentinel may not have seen it yet.
    case prioritiesLowered
    /// Writes held on the master since `seconds` ago; every acknowledged write is at or below `offset`.
    case paused(offset: Int64, seconds: Double)
    /// SENTINEL FAILOVER sent for `from`; `writesHeld` while the old master still holds writes.
    case failoverRequested(from: NodeAddress, writesHeld: Bool)
}

enum SwitchoverStep: Sendable, Equatable {
    /// Do not start; nothing was changed.
    case refuse
    /// Make these replicas ineligible (replica-priority 0) so only the target can be promoted.
    case lowerPriorities([NodeAddress])
    /// Sentinel has not seen the lowered priorities yet.
    case waitForSentinel
    case pauseWrites
    case waitForCatchUp
    case requestFailover
    case waitForNewMaster
    /// Point the old master at the new one at once, then give its held writes back (they fail: it is a replica).
    case demoteOldMaster(NodeAddress)
    /// The old master is a replica: give its held writes back, they fail with READONLY.
    case releaseWrites
    case done(NodeAddress)
    /// Stop after changing things: put priorities and writes back, exit 1.
    case abort
}

struct SwitchoverPlan: Sendable, Equatable {
    var step: SwitchoverStep
    var reason: String

    init(_ step: SwitchoverStep, _ reason: String) {
        self.step = step
        self.reason = reason
    }
}

/// The switchover's every decision, from what it saw and where it is.
/// Sentinel promotes the replica it ranks best, not one the operator names,
/// so with a target every other replica is made ineligible first; without
/// one, every eligible replica must hold every acknowledged write before the
/// failover, whichever Sentinel picks.
enum SwitchoverDecision {
    /// How long paused writes may wait for the replicas (they acknowledge
    /// once a second): at most 5 s, and half Sentinel's down-after, since
    /// the pause also holds Sentinel's hello PUBLISH to the master, and the
    /// PINGs queued behind it, so a long pause reads as a master down.
    static func catchUpLimit(downAfterSeconds: Double) -> Double {
        min(5, downAfterSeconds / 2)
    }

    static func next(_ seen: SwitchoverSnapshot, target: NodeAddress?, phase: SwitchoverPhase, catchUpLimit: Double) -> SwitchoverPlan {
        switch phase {
        case .checking: return check(seen, target: target)
        case .prioritiesLowered: return afterPriorities(seen, target: target)
        case let .paused(offset, seconds):
            return whilePaused(seen, target: target, offset: offset, seconds: seconds, catchUpLimit: catchUpLimit)
        case let .failoverRequested(from, writesHeld): return afterFailover(seen, from: from, writesHeld: writesHeld)
        }
    }

    private static func check(_ seen: SwitchoverSnapshot, target: NodeAddress?) -> SwitchoverPlan {
        let answering = seen.namedMasters.count
        let majority = seen.sentinelsKnown / 2 + 1
        if answering == 0 {
            return SwitchoverPlan(.refuse, "no sentinel answers; Sentinel performs the failover, so there is nothing to ask")
        }
        if seen.failoverInProgress {
            return SwitchoverPlan(.refuse, "a failover is already in progress; run status and try again once it is over")
        }
        if Set(seen.namedMasters).count > 1 {
            return SwitchoverPlan(.refuse, "the sentinels disagree on the master (\(seen.namedMasters.countedList)); wait until they agree")
        }
        if answering < majority {
            return SwitchoverPlan(.refuse, "only \(answering) of \(seen.sentinelsKnown) sentinels answer; a failover needs a majority (\(majority))")
        }
        guard let quorum = seen.quorum, quorum.reachable else {
            return SwitchoverPlan(.refuse, "Sentinel has no quorum: \(seen.quorum?.message ?? "CKQUORUM did not answer")")
        }
        guard let master = seen.master, seen.masterAnswers else {
            return SwitchoverPlan(.refuse, "the master \(seen.master?.description ?? "(none named)") does not answer as master; "
                + "a switchover needs a live master (Sentinel fails a dead one over by itself)")
        }
        let listed = seen.replicas.map(\.address).sortedList
        if let target {
            if target == master {
                return SwitchoverPlan(.refuse, "\(target) is already the master")
            }
            guard let replica = seen.replicas.first(where: { $0.address == target }) else {
                return SwitchoverPlan(.refuse, "\(target) is not a replica of the master \(master) (its replicas: \(listed))")
            }
            if !replica.online {
                return SwitchoverPlan(.refuse, "\(target) is not a healthy replica: the master does not list it online")
            }
            if replica.flaggedDown {
                return SwitchoverPlan(.refuse, "\(target) is not a healthy replica: Sentinel flags it down")
            }
            if replica.silent {
                return SwitchoverPlan(.refuse, "\(target) is not a healthy replica: it last acknowledged "
                    + "\(replica.ackAgeSeconds ?? 0)s ago (replicas acknowledge every second)")
            }
            if replica.sentinelPriority == nil {
                return SwitchoverPlan(.refuse, "\(target) is not among the replicas Sentinel lists for \(master) yet, so Sentinel cannot promote it")
            }
            if replica.sentinelPriority == 0 {
                return SwitchoverPlan(.refuse, "\(target) has replica-priority 0: Sentinel never promotes it")
            }
            let others = seen.replicas.filter { $0.address != target && $0.sentinelPriority != 0 }.map(\.address).sorted()
            if !others.isEmpty {
                return SwitchoverPlan(.lowerPriorities(others), "master \(master), target \(target) (online, at offset "
                    + "\(replica.offset) of \(seen.masterOffset)); setting replica-priority 0 on \(others.sortedList) "
                    + "so Sentinel can promote only the target")
            }
            return SwitchoverPlan(.pauseWrites, "master \(master), target \(target) is its only eligible replica; pausing writes")
        }
        let eligible = seen.replicas.filter(\.eligible)
        let silent = eligible.filter(\.silent)
        if !silent.isEmpty {
            return SwitchoverPlan(.refuse, "\(silent.map(\.address).sortedList) may be promoted by Sentinel but has not acknowledged "
                + "for over \(SwitchoverReplica.silentAfter)s, so it may lack acknowledged writes; name a healthy replica with --to")
        }
        if eligible.isEmpty {
            return SwitchoverPlan(.refuse, "the master \(master) has no healthy replica Sentinel may promote (replicas: \(listed))")
        }
        return SwitchoverPlan(.pauseWrites, "master \(master) at offset \(seen.masterOffset), eligible replicas "
            + "\(eligible.map(\.address).sortedList); pausing writes so they catch up")
    }

    private static func afterPriorities(_ seen: SwitchoverSnapshot, target: NodeAddress?) -> SwitchoverPlan {
        if let problem = midwayProblem(seen) { return SwitchoverPlan(.abort, problem) }
        // A replica Sentinel does not list is one it cannot promote either.
        let pending = seen.replicas.filter { $0.address != target && $0.sentinelPriority.map { $0 != 0 } ?? false }.map(\.address)
        if !pending.isEmpty {
            return SwitchoverPlan(.waitForSentinel, "waiting for Sentinel to see replica-priority 0 on \(pending.sortedList) "
                + "(it reads replicas' INFO every 10 s)")
        }
        return SwitchoverPlan(.pauseWrites, "Sentinel sees only \(target?.description ?? "the target") as eligible; pausing writes")
    }

    private static func whilePaused(
        _ seen: SwitchoverSnapshot, target: NodeAddress?, offset: Int64, seconds: Double, catchUpLimit: Double
    ) -> SwitchoverPlan {
        if let problem = midwayProblem(seen) { return SwitchoverPlan(.abort, problem) }
        let waitingFor = target.map { address in seen.replicas.filter { $0.address == address } } ?? seen.replicas.filter(\.eligible)
        if waitingFor.isEmpty || (target != nil && !(waitingFor.first?.online ?? false)) {
            return SwitchoverPlan(.abort, "\(target.map { "the target \($0)" } ?? "every eligible replica") went away while writes were paused")
        }
        let behind = waitingFor.filter { $0.offset < offset }
        let offsets = waitingFor.map { "\($0.address)@\($0.offset)" }.joined(separator: ", ")
        if behind.isEmpty {
            return SwitchoverPlan(.requestFailover, "writes paused at offset \(offset); \(offsets) hold every acknowledged write; "
                + "asking Sentinel to fail over")
        }
        if seconds >= catchUpLimit {
            return SwitchoverPlan(.abort, "writes paused at offset \(offset) for \(String(format: "%.1f", seconds))s but \(behind.map(\.address).sortedList) "
                + "did not catch up; name a caught-up replica with --to, or fix the lagging one")
        }
        return SwitchoverPlan(.waitForCatchUp, "writes paused at offset \(offset); replicas at \(offsets); waiting for them to catch up")
    }

    /// Anything that makes going on unsafe once things were changed.
    private static func midwayProblem(_ seen: SwitchoverSnapshot) -> String? {
        if seen.failoverInProgress {
            return "a failover started that this switchover did not ask for"
        }
        if !seen.masterAnswers {
            return "the master \(seen.master?.description ?? "") stopped answering"
        }
        if let named = seen.namedMasters.mostNamed()?.address, named != seen.master {
            return "the sentinels now name \(named) master"
        }
        return nil
    }

    private static func afterFailover(_ seen: SwitchoverSnapshot, from old: NodeAddress, writesHeld: Bool) -> SwitchoverPlan {
        if writesHeld {
            // The held writes go as soon as the promoted replica is master:
            // the leader names it first, and from then on the failover only
            // spreads. The old master is made its replica first, so they fail.
            if let promoted = seen.leaderNames, promoted != old, seen.leaderNamedAnswersAsMaster {
                if !seen.oldMasterIsReplica {
                    return SwitchoverPlan(.demoteOldMaster(promoted), "the sentinel leading the failover names \(promoted) master and it "
                        + "answers as master; making \(old) its replica now rather than after Sentinel's delay, then releasing its "
                        + "held writes (they fail: read-only)")
                }
                return SwitchoverPlan(.releaseWrites, "\(old) is a replica of \(promoted); releasing its held writes (they fail: read-only)")
            }
            if seen.leaderNames == old && !seen.failoverInProgress {
                // SENTINEL FAILOVER marks the failover in progress before it
                // answers, so this is a failover that ended without a switch.
                return SwitchoverPlan(.abort, "Sentinel ended the failover without promoting a replica (its log says why, "
                    + "e.g. -failover-abort-no-good-slave); \(old) is still the master")
            }
            return SwitchoverPlan(.waitForNewMaster, seen.failoverInProgress ? "Sentinel is failing over"
                : "the sentinel asked to fail over does not answer yet")
        }
        let majority = seen.sentinelsKnown / 2 + 1
        guard let (named, votes) = seen.namedMasters.mostNamed(), named != old else {
            return SwitchoverPlan(.waitForNewMaster, "the sentinels still name \(old) master")
        }
        if votes < majority || !seen.namedAnswersAsMaster {
            return SwitchoverPlan(.waitForNewMaster, "\(votes) of \(seen.sentinelsKnown) sentinels name \(named)"
                + (seen.namedAnswersAsMaster ? "" : ", which does not answer as master yet") + "; waiting for a majority (\(majority))")
        }
        if seen.failoverInProgress {
            // Sentinel names the promoted replica while it still repoints the
            // others; a master lost before it ends stays failed over to, with
            // the leader stuck until its failover-timeout.
            return SwitchoverPlan(.waitForNewMaster, "Sentinel names \(named) and is still reconfiguring the replicas; waiting for it to finish")
        }
        guard let listed = seen.consulMasters else {
            return SwitchoverPlan(.waitForNewMaster, "Sentinel names \(named); waiting for Consul to answer")
        }
        if listed != [named] {
            return SwitchoverPlan(.waitForNewMaster, "Sentinel names \(named); Consul lists "
                + (listed.isEmpty ? "no passing redis" : "passing redis \(listed.sortedList)") + "; waiting for Consul")
        }
        return SwitchoverPlan(.done(named), "\(votes) of \(seen.sentinelsKnown) sentinels and Consul name \(named) master")
    }
}
