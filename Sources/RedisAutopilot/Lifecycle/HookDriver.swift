/// What every decision returns: the step and one sentence saying what was
/// seen and what is done about it.
protocol HookPlan {
    var reason: String { get }
    /// The level of the reason when it differs from the previous cycle's;
    /// a repeated reason goes to DEBUG.
    var level: LogLevel { get }
}

extension HookPlan {
    var level: LogLevel { .info }
}

/// What the act phase of one cycle leaves: the hook's result, or another
/// cycle after a pause.
enum CycleOutcome<Result> {
    case done(Result)
    case again(after: Duration)
}

/// The one loop of every hook, as Patroni's HA loop: observe the world once
/// into a snapshot, decide from that snapshot alone, act on the plan without
/// reading anything more, and repeat until the plan says done or the
/// deadline passes. Time comes from the injected clock.
struct HookDriver {
    let clock: HookClock
    let log: HookLog

    /// nil when the deadline passed before a plan said done; the deadline is
    /// checked before each observation, so one cycle always runs.
    func run<Snapshot, Plan: HookPlan, Result>(
        until deadline: HookDeadline,
        observe: (_ elapsed: Duration) throws -> Snapshot,
        decide: (Snapshot) -> Plan,
        act: (Plan) throws -> CycleOutcome<Result>
    ) throws -> Result? {
        let started = clock.now
        var lastReason: String?
        var first = true
        while first || !deadline.hasPassed {
            first = false
            let plan = decide(try observe(clock.now - started))
            log(plan.reason, level: plan.reason == lastReason ? .debug : plan.level)
            lastReason = plan.reason
            switch try act(plan) {
            case .done(let result):
                return result
            case .again(let pause):
                clock.sleep(for: min(pause, deadline.remaining))
            }
        }
        return nil
    }
}
