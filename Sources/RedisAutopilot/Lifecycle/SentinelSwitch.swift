/// What Sentinel passes to its client-reconfig-script:
/// `<master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`.
/// Sentinel's documentation says `<state>` is always `failover`; its code
/// (sentinel.c, 3.x through 7.x) passes `start`, for the leader and for the
/// observers alike. Both are accepted.
public struct SentinelSwitch: Sendable, Equatable {
    static let states: Set<String> = ["start", "failover"]

    var masterName: String
    var role: String
    var from: NodeAddress
    var to: NodeAddress

    /// nil unless the arguments have exactly Sentinel's shape, so an ordinary
    /// mistyped command is never taken for a failover.
    init?(arguments: [String]) {
        guard arguments.count == 7, Self.states.contains(arguments[2]), ["leader", "observer"].contains(arguments[1]),
              let from = try? NodeAddress(host: arguments[3], portText: arguments[4]),
              let to = try? NodeAddress(host: arguments[5], portText: arguments[6]) else { return nil }
        masterName = arguments[0]
        role = arguments[1]
        self.from = from
        self.to = to
    }

    /// True on the node Sentinel just took the master role away from. Its
    /// `redis` check can fail at once: asking its Redis first would wait out
    /// REDIS_TIMEOUT when that Redis is hung, which is often why it lost.
    func stepsDown(_ me: NodeAddress) -> Bool {
        from == me && to != me
    }
}
