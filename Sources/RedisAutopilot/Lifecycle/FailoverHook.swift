/// What Sentinel passes to its client-reconfig-script:
/// `<master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>`.
/// Sentinel's documentation says `<state>` is always `failover`; its code
/// (sentinel.c, 3.x through 7.x) passes `start`, for the leader and for the
/// observers alike. Both are accepted.
public struct SentinelSwitch: Sendable, Equatable {
    static let states: Set<String> = ["start", "failover"]

    public var masterName: String
    public var role: String
    public var from: NodeAddress
    public var to: NodeAddress

    /// nil unless the arguments have exactly Sentinel's shape, so an ordinary
    /// mistyped command is never taken for a failover.
    public init?(arguments: [String]) {
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
    public func stepsDown(_ me: NodeAddress) -> Bool {
        from == me && to != me
    }
}

/// Sentinel's client-reconfig-script: after a switch of master, this node's
/// registration is re-synced at once instead of at the next health run.
public struct FailoverHook {
    let node: NodeContext
    let change: SentinelSwitch

    public init(node: NodeContext, change: SentinelSwitch) {
        self.node = node
        self.change = change
    }

    /// How long the new master's script keeps re-syncing while the old
    /// master still passes as `redis`; health takes over after that.
    static let stepDownWait: Double = 5

    public func run() throws {
        node.log("failover", "sentinel (\(change.role)) switched \(change.masterName) from \(change.from) to \(change.to); re-syncing this node's registration")
        if change.stepsDown(node.announce) {
            try failMasterCheck()
        }
        let health = HealthHook(node: node, hookName: "failover")
        let deadline = Deadline.after(seconds: Self.stepDownWait)
        // Observers call this script too, the old master's node among them:
        // the new master passes as soon as that node has stepped down.
        while try health.runOnce().actions.contains(where: Self.holdsMasterBack), !deadline.hasPassed {
            pause(seconds: 0.1)
        }
    }

    private func failMasterCheck() throws {
        let note = "Sentinel switched the master from this node to \(change.to)"
        do {
            try node.consul.failCheck(id: node.checkID(.master), note: note)
            node.log("failover", "\(note); failed this node's redis check at once")
        } catch ConsulError.http(_, _, 404, _) {
            node.log("failover", "\(note); this node had no redis registration to fail", level: .debug)
        }
    }

    private static func holdsMasterBack(_ action: HealthAction) -> Bool {
        if case .warn(.master, _) = action { return true }
        return false
    }
}
