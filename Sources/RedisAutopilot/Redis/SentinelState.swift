/// An instance as Sentinel describes it: SENTINEL MASTER, MASTERS, REPLICAS
/// and SENTINELS answer with flat name/value lists, kept here whole, with
/// typed accessors for the fields decisions use. A missing or malformed
/// field reads as nil.
protocol SentinelFieldSet: Sendable {
    var fields: [String: String] { get }
}

extension SentinelFieldSet {
    subscript(name: String) -> String? { fields[name] }

    func integer(_ name: String) -> Int? {
        fields[name].flatMap { Int($0) }
    }

    var name: String? { fields["name"] }
    var ip: String? { fields["ip"] }
    var port: Int? { integer("port") }
    var runID: String? { fields["runid"] }
    /// `ip` and `port`, nil when either is missing or cannot be an address.
    var address: NodeAddress? {
        guard let ip, let port else { return nil }
        return try? NodeAddress(host: ip, port: port)
    }

    /// `master`, `slave`, `sentinel`, `s_down`, `o_down`, `disconnected`,
    /// `failover_in_progress`, `promoted`, ...
    var flags: Set<String> {
        Set((fields["flags"] ?? "").split(separator: ",").map(String.init))
    }

    /// Subjectively or objectively down, or not reachable at all.
    var isDown: Bool {
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
struct SentinelMaster: SentinelFieldSet, Equatable {
    let fields: [String: String]

    init(fields: [String: String]) {
        self.fields = fields
    }

    var numReplicas: Int? { integer("num-slaves") }
    var numOtherSentinels: Int? { integer("num-other-sentinels") }
    var quorum: Int? { integer("quorum") }
    var configEpoch: Int? { integer("config-epoch") }
    var failoverTimeout: Int? { integer("failover-timeout") }
    var downAfterMilliseconds: Int? { integer("down-after-milliseconds") }

    /// `wait_start`, `select_slave`, `send_slaveof_noone`, `wait_promotion`,
    /// `reconf_slaves`, `update_config`; nil when no failover is running
    /// (Sentinel then leaves the field out).
    var failoverState: String? {
        fields["failover-state"].flatMap { $0 == "none" ? nil : $0 }
    }

    var isFailoverInProgress: Bool {
        flags.contains("failover_in_progress") || failoverState != nil
    }

    /// Milliseconds since the master last answered this sentinel's PING.
    var lastOkPingReplyMilliseconds: Int? { integer("last-ok-ping-reply") }

    /// This sentinel flags the master down, or has not heard from it for half
    /// its down-after: a failover may start before the master answers again.
    /// Sentinel keeps counting from its oldest unanswered PING across a
    /// reconnection, so a server restarted after hanging gets little grace.
    var doubtsMaster: Bool {
        if isDown { return true }
        guard let silent = lastOkPingReplyMilliseconds, let downAfter = downAfterMilliseconds else { return false }
        return silent * 2 >= downAfter
    }
}

/// A replica of a monitored master (SENTINEL REPLICAS).
struct SentinelReplica: SentinelFieldSet, Equatable {
    let fields: [String: String]

    init(fields: [String: String]) {
        self.fields = fields
    }

    /// `ok` or `err`: the replica's own link to its master.
    var masterLinkStatus: String? { fields["master-link-status"] }
    var masterHost: String? { fields["master-host"] }
    var masterPort: Int? { integer("master-port") }
    var replicationOffset: Int? { integer("slave-repl-offset") }
    var priority: Int? { integer("slave-priority") }
}

/// Another sentinel watching the same master (SENTINEL SENTINELS).
struct SentinelPeer: SentinelFieldSet, Equatable {
    let fields: [String: String]

    init(fields: [String: String]) {
        self.fields = fields
    }

    var votedLeader: String? { fields["voted-leader"] }
}

/// The answer to SENTINEL CKQUORUM: whether this sentinel, with those it
/// can reach, could authorise a failover; the message says how many are usable.
struct SentinelQuorumCheck: Sendable, Equatable {
    var reachable: Bool
    var message: String

    init(reachable: Bool, message: String) {
        self.reachable = reachable
        self.message = message
    }
}
