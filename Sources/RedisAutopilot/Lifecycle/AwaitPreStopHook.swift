/// awaitPreStop: keeps a job that preStop still needs (redis-sentinel, the
/// Consul agent) running until preStop is done. ContainerPilot stops every
/// job at once on shutdown, except a job that has another job reacting to
/// its `stopping` event: that one waits for the dependent to finish. This
/// hook is that dependent; preStop ends by shutting redis-server down, so
/// Redis no longer answering is the signal.
public struct AwaitPreStopHook {
    let node: NodeContext

    public init(node: NodeContext) {
        self.node = node
    }

    /// The whole of preStop's budget plus a margin; after that the job stops
    /// anyway rather than hold the container's shutdown.
    var budget: Double {
        node.deadline?.remainingSeconds ?? node.settings.sentinel.failoverWaitTimeout.inSeconds + PreStopHook.resetBudget + 5
    }

    public func run() {
        let deadline = node.deadline ?? Deadline.after(seconds: budget)
        while !deadline.hasPassed {
            guard let redis = try? node.redis() else {
                node.log("awaitPreStop", "redis-server no longer answers; preStop is done")
                return
            }
            redis.close()
            pause(seconds: 0.2)
        }
        node.log("awaitPreStop", "redis-server still answers after \(Int(budget))s; letting the job stop anyway", level: .warn)
    }
}
