/// What healthSentinel saw: this node's `redis-sentinel` registration on its
/// agent and what the local Sentinel answered.
struct SentinelHealthSnapshot: Sendable, Equatable {
    /// The address this node's registration announces, nil when absent.
    var registered: NodeAddress?
    /// `redis-sentinel` registrations on this agent under another ID (the one
    /// ContainerPilot made before redis-manage registered Sentinel itself, or
    /// an address this node no longer announces).
    var staleServiceIDs: [String]
    /// The Sentinel address this node announces.
    var announce: NodeAddress
    /// nil: Sentinel answered PING; otherwise why it did not.
    var failure: String?

    init(registered: NodeAddress?, staleServiceIDs: [String] = [], announce: NodeAddress, failure: String? = nil) {
        self.registered = registered
        self.staleServiceIDs = staleServiceIDs
        self.announce = announce
        self.failure = failure
    }
}

enum SentinelHealthAction: Sendable, Equatable {
    case register(NodeAddress)
    case deregisterStale(id: String)
    case pass(note: String)
    case fail(note: String)
}

struct SentinelHealthPlan: Sendable, Equatable, HookPlan {
    var actions: [SentinelHealthAction]
    var healthy: Bool
    var reason: String

    var level: LogLevel {
        if !healthy { return .error }
        return actions.contains { if case .pass = $0 { return false } else { return true } } ? .info : .debug
    }
}

/// Keeps `redis-sentinel` in Consul at the address other nodes reach this
/// Sentinel at (SENTINEL_ANNOUNCE_PORT behind NAT), the one every consumer
/// (onStart, preStop, the other nodes) reads.
enum SentinelHealthDecision {
    static func decide(_ seen: SentinelHealthSnapshot) -> SentinelHealthPlan {
        var actions: [SentinelHealthAction] = seen.staleServiceIDs.sorted().map { .deregisterStale(id: $0) }
        if let failure = seen.failure {
            if seen.registered != nil { actions.append(.fail(note: "sentinel does not answer: \(failure)")) }
            return SentinelHealthPlan(actions: actions, healthy: false, reason: "sentinel does not answer (\(failure)); marking redis-sentinel critical")
        }
        var what = "registered at \(seen.announce)"
        if seen.registered != seen.announce {
            actions.append(.register(seen.announce))
            what = seen.registered.map { "re-registering at \(seen.announce) (was \($0))" } ?? "registering at \(seen.announce)"
        }
        actions.append(.pass(note: "sentinel answers PING"))
        let stale = seen.staleServiceIDs.isEmpty ? "" : "; removing \(seen.staleServiceIDs.sorted().joined(separator: ", "))"
        return SentinelHealthPlan(actions: actions, healthy: true, reason: "sentinel answers PING; redis-sentinel \(what)\(stale)")
    }
}

/// Sentinel needs a majority of all sentinels, not just the quorum, to
/// authorise a failover.
enum FailoverCapacity {
    static func note(sentinels: Int, quorum: Int) -> String? {
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
