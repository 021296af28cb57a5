/// An instance as Sentinel describes it: SENTINEL MASTER, MASTERS, REPLICAS
/// and SENTINELS answer with flat name/value lists, kept here whole, with
/// typed accessors for the fields decisions use. A missing or malformed
/// field reads as nil.
public protocol SentinelFieldSet: Sendable {
    var fields: [String: String] { get }
}

extension SentinelFieldSet {
    public subscript(name: String) -> String? { fields[name] }

    public func integer(_ name: String) -> Int? {
        fields[name].flatMap { Int($0) }
    }

    public var name: String? { fields["name"] }
    public var ip: String? { fields["ip"] }
    public var port: Int? { integer("port") }
    public var runID: String? { fields["runid"] }
    /// `ip` and `port`, nil when either is missing or cannot be an address.
    public var address: NodeAddress? {
        guard let ip, let port else { return nil }
        return try? NodeAddress(host: ip, port: port)
    }

    /// `master`, `slave`, `sentinel`, `s_down`, `o_down`, `disconnected`,
    /// `failover_in_progress`, `promoted`, ...
    public var flags: Set<String> {
        Set((fields["flags"] ?? "").split(separator: ",").map(String.init))
    }

    /// Subjectively or objectively down, or not reachable at all.
    public var isDown: Bool {
        !flags.isDisjoint(with: ["s_down", "o_down", "disconnected"])
    }

    static func parseFields(_ reply: RESPValue) -> [String: String]? {
        guard let elements = reply.array, elements.count % 2 == 0 else { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let name = elements[index].text, let value = elements[index + 1].text else { return nil }
            fields[name] = value
        }
        return fields
    }
}

/// A monitored master (SENTINEL MASTER / MASTERS).
public struct SentinelMaster: SentinelFieldSet, Equatable {
    public let fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }

    public var numReplicas: Int? { integer("num-slaves") }
    public var numOtherSentinels: Int? { integer("num-other-sentinels") }
    public var quorum: Int? { integer("quorum") }
    public var configEpoch: Int? { integer("config-epoch") }
    public var failoverTimeout: Int? { integer("failover-timeout") }
    public var downAfterMilliseconds: Int? { integer("down-after-milliseconds") }

    /// `wait_start`, `select_slave`, `send_slaveof_noone`, `wait_promotion`,
    /// `reconf_slaves`, `update_config`; nil when no failover is running
    /// (Sentinel then leaves the field out).
    public var failoverState: String? {
        fields["failover-state"].flatMap { $0 == "none" ? nil : $0 }
    }

    public var isFailoverInProgress: Bool {
        flags.contains("failover_in_progress") || failoverState != nil
    }

    /// Milliseconds since the master last answered this sentinel's PING.
    public var lastOkPingReplyMilliseconds: Int? { integer("last-ok-ping-reply") }

    /// This sentinel flags the master down, or has not heard from it for half
    /// its down-after: a failover may start before the master answers again.
    /// Sentinel keeps counting from its oldest unanswered PING across a
    /// reconnection, so a server restarted after hanging gets little grace.
    public var doubtsMaster: Bool {
        if isDown { return true }
        guard let silent = lastOkPingReplyMilliseconds, let downAfter = downAfterMilliseconds else { return false }
        return silent * 2 >= downAfter
    }
}

/// A replica of a monitored master (SENTINEL REPLICAS).
public struct SentinelReplica: SentinelFieldSet, Equatable {
    public let fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }

    /// `ok` or `err`: the replica's own link to its master.
    public var masterLinkStatus: String? { fields["master-link-status"] }
    public var masterHost: String? { fields["master-host"] }
    public var masterPort: Int? { integer("master-port") }
    public var replicationOffset: Int? { integer("slave-repl-offset") }
    public var priority: Int? { integer("slave-priority") }
}

/// Another sentinel watching the same master (SENTINEL SENTINELS).
public struct SentinelPeer: SentinelFieldSet, Equatable {
    public let fields: [String: String]

    public init(fields: [String: String]) {
        self.fields = fields
    }

    public var votedLeader: String? { fields["voted-leader"] }
}

/// The answer to SENTINEL CKQUORUM: whether this sentinel, with those it
/// can reach, could authorise a failover; the message says how many are usable.
public struct SentinelQuorumCheck: Sendable, Equatable {
    public var reachable: Bool
    public var message: String

    public init(reachable: Bool, message: String) {
        self.reachable = reachable
        self.message = message
    }
}
