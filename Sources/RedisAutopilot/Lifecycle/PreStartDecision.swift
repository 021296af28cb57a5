/// What preStart removes from the stopped agent's data directory, and why.
struct AgentDataPlan: Sendable, Equatable {
    var remove: [PersistedCheckStatus]
    var reason: String
}

/// A Consul agent started again on its data directory restores the services
/// and checks registered through its API, and gives each TTL check the status
/// it last had until that TTL runs out. After a crash or a restart of the whole
/// node, that would list this node as a passing `redis` again, beside the
/// master Sentinel promoted meanwhile, until onStart deregisters it or the TTL
/// runs out. Nothing of this node has been checked since it started, so the
/// statuses of its role and Sentinel checks go, and the agent brings those
/// checks back critical, as Consul does for any check without a status.
enum PreStartDecision {
    /// Services whose checks must not pass from before this start: the roles
    /// redis-manage registers and the Sentinel service ContainerPilot registers.
    static let restartedServices: [String] = RoleService.allCases.map(\.name).sorted() + [ClusterNames.sentinelService]

    /// `now`: Unix seconds, as Consul compares a status's `Expires`.
    static func decide(_ found: PersistedAgentChecks, directory: String, now: Int64) -> AgentDataPlan {
        let services = Set(restartedServices)
        let ours = Set(found.checks.filter { services.contains($0.serviceName) }.map(\.checkID))
        let remove = found.statuses.filter { ours.contains($0.checkID) }.sorted { $0.checkID < $1.checkID }
        let unreadable = found.unreadable.isEmpty ? "" : "; \(found.unreadable.count) unreadable file(s) left to Consul"

        if remove.isEmpty {
            let seen = found.checks.isEmpty && found.statuses.isEmpty
                ? "no persisted checks in the Consul agent's data dir \(directory)"
                : "no last status of a \(restartedServices.joined(separator: ", ")) check in the Consul agent's data dir \(directory)"
            return AgentDataPlan(remove: [], reason: "\(seen)\(unreadable); nothing to clear")
        }
        let listed = remove.map { status in
            let restorable = now < status.expires ? "restorable for \(status.expires - now) s" : "expired"
            return "\(status.checkID) \(status.status) (\(restorable))"
        }.joined(separator: ", ")
        return AgentDataPlan(
            remove: remove,
            reason: "the Consul agent's data dir \(directory) holds the last status of \(remove.count) check(s) of this node "
                + "from before this start: \(listed)\(unreadable); removing it so the agent restores these checks critical "
                + "until this start's own health checks pass them")
    }
}
