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
