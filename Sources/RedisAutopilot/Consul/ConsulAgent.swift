/// The local agent's own services and checks. These calls act on this node
/// only; the agent syncs them to the catalog.
extension ConsulClient {
    /// The services registered on this agent, by service ID.
    func agentServices() throws -> [String: ConsulService] {
        let answer = try exchange("GET", ConsulRequestTarget("/v1/agent/services"))
        return try decode([String: ConsulService]?.self, from: answer) ?? [:]
    }

    /// Registers (or replaces) a service instance on this agent.
    func registerService(_ registration: ConsulServiceRegistration) throws {
        _ = try exchange(
            "PUT", ConsulRequestTarget("/v1/agent/service/register"), body: encodeJSON(registration), json: true)
    }

    func deregisterService(id: String) throws {
        _ = try exchange("PUT", ConsulRequestTarget("/v1/agent/service/deregister/", segment: id))
    }

    /// Reports a TTL check passing and restarts its TTL.
    func passCheck(id: String, note: String? = nil) throws {
        try reportTTL("pass", id: id, note: note)
    }

    /// Reports a TTL check warning and restarts its TTL.
    func warnCheck(id: String, note: String? = nil) throws {
        try reportTTL("warn", id: id, note: note)
    }

    /// Reports a TTL check critical and restarts its TTL.
    func failCheck(id: String, note: String? = nil) throws {
        try reportTTL("fail", id: id, note: note)
    }

    private func reportTTL(_ verb: String, id: String, note: String?) throws {
        var target = ConsulRequestTarget("/v1/agent/check/\(verb)/", segment: id)
        target.value("note", note)
        _ = try exchange("PUT", target)
    }
}
