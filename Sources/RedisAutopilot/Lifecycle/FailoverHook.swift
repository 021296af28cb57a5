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

/// One re-sync of the failover hook: health's plan, and whether to run
/// another because the new master is still held back.
struct FailoverPlan: HookPlan {
    var health: HealthPlan
    var again: Bool

    var reason: String { health.reason + (again ? "; re-syncing again until the old master steps down" : "") }
    var level: LogLevel { health.level }
}

enum FailoverDecision {
    /// How long the new master's script keeps re-syncing while the old
    /// master still passes as `redis`; health takes over after that.
    static let stepDownWait: Duration = .seconds(5)

    /// Observers call this script too, the old master's node among them:
    /// the new master passes as soon as that node has stepped down.
    static func decide(_ seen: HealthSnapshot) -> FailoverPlan {
        let health = HealthDecision.decide(seen)
        let holdsBack = health.actions.contains { action in
            if case .warn(.master, _) = action { return true }
            return false
        }
        return FailoverPlan(health: health, again: holdsBack)
    }
}

/// Sentinel's client-reconfig-script: after a switch of master, this node's
/// registration is re-synced at once instead of at the next health run.
struct FailoverHook {
    let health: HealthHook
    let change: SentinelSwitch

    var log: HookLog { health.observer.log }

    func run() throws {
        let me = health.identity.announce
        log("sentinel (\(change.role)) switched \(change.masterName) from \(change.from) to \(change.to); re-syncing this node's registration")
        if change.stepsDown(me) {
            try failMasterCheck()
        }
        let clock = health.clock
        _ = try HookDriver(clock: clock, log: log).run(
            until: .after(FailoverDecision.stepDownWait, on: clock), observe: { _ in try health.observe() },
            decide: FailoverDecision.decide,
            act: { plan -> CycleOutcome<Void> in
                try health.act(plan.health)
                return plan.again ? .again(after: .milliseconds(100)) : .done(())
            })
    }

    private func failMasterCheck() throws {
        let note = "Sentinel switched the master from this node to \(change.to)"
        if try health.cluster.setCheck(id: health.identity.checkID(.master), to: .critical, note: note) {
            log("\(note); failed this node's redis check at once")
        } else {
            log("\(note); this node had no redis registration to fail", level: .debug)
        }
    }
}
