/// Makes replicas ineligible for promotion (replica-priority 0) and gives
/// them their own priority back afterwards.
struct ReplicaPriorities {
    let reach: ClusterReach

    init(reach: ClusterReach) {
        self.reach = reach
    }

    /// Sets 0 on each; returns the values they had, including for those set
    /// before a failure (so a partial change is still undone).
    func lower(_ replicas: [NodeAddress], saved: inout [NodeAddress: String]) throws {
        for replica in replicas {
            do {
                let client = try reach.redis(replica)
                defer { client.close() }
                let original = try client.configGet("replica-priority")["replica-priority"] ?? "100"
                saved[replica] = original
                try client.configSet("replica-priority", "0")
            } catch {
                throw SwitchoverError.priorityNotSet(replica: replica, reason: "\(error)")
            }
        }
    }

    /// Sets each back and rewrites its config file, where Sentinel's own
    /// CONFIG REWRITE after the failover may have stored the 0. Returns
    /// what could not be restored.
    func restore(_ saved: [NodeAddress: String]) -> [String] {
        var failures: [String] = []
        for (replica, value) in saved.sorted(by: { $0.key < $1.key }) {
            do {
                let client = try reach.redis(replica)
                defer { client.close() }
                try client.configSet("replica-priority", value)
                _ = try? client.command(["CONFIG", "REWRITE"])
            } catch {
                failures.append("\(replica) (replica-priority \(value)): \(error)")
            }
        }
        return failures
    }
}
