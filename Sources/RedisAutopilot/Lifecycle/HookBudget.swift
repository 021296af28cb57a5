/// How long each hook may run: inside the `timeout` its job has in
/// etc/containerpilot.json5, so that a hook always ends by itself, having
/// said why, before ContainerPilot kills it. Every Consul, Redis and Sentinel
/// call of the hook is cut to fit.
enum HookBudget {
    /// health and healthSentinel; their jobs' health `timeout` is 4s, and a
    /// frozen Redis must fail its check within one health interval.
    static let health: Duration = .seconds(3)
    /// preStop; its job's `timeout` is 40s.
    static let preStop: Duration = .seconds(38)
    /// awaitPreStop (sentinel-hold, consul-agent-hold), which outlives
    /// preStop; their jobs' `timeout` is 42s.
    static let awaitPreStop: Duration = .seconds(40)
}
