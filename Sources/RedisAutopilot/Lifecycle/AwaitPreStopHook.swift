/// awaitPreStop: keeps a job that preStop still needs (redis-sentinel, the
/// Consul agent) running until preStop is done. ContainerPilot stops every
/// job at once on shutdown, except a job that has another job reacting to
/// its `stopping` event: that one waits for the dependent to finish. This
/// hook is that dependent; preStop ends by shutting redis-server down, so
/// Redis no longer answering is the signal.
struct AwaitPreStopHook {
    let node: NodePort
    let log: HookLog
    let clock: HookClock
    /// The whole of preStop's budget plus a margin; after that the job stops
    /// anyway rather than hold the container's shutdown.
    let budget: Duration

    struct Plan: HookPlan {
        var done: Bool
        var reason: String
        var level: LogLevel { done ? .info : .debug }
    }

    func run() {
        let done = try? HookDriver(clock: clock, log: log).run(
            until: .after(budget, on: clock), observe: { _ in node.redisListens() },
            decide: { listens in
                Plan(done: !listens, reason: listens ? "redis-server still answers; preStop is not done" : "redis-server no longer answers; preStop is done")
            },
            act: { plan in plan.done ? .done(true) : .again(after: .milliseconds(200)) })
        if done == nil {
            log("redis-server still answers after \(Int(budget.inSeconds))s; letting the job stop anyway", level: .warn)
        }
    }
}
