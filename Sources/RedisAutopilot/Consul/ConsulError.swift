/// Everything that can go wrong talking to the local Consul agent. `path` is
/// the request target (path and query) so the message names the call; the ACL
/// token is sent in a header only and never appears here.
enum ConsulError: Error, CustomStringConvertible {
    /// Consul answered with a status other than the call accepts; `body` is
    /// truncated and has the token scrubbed from it.
    case http(method: String, path: String, status: Int, body: String)
    /// The answer was not what Consul documents for that endpoint.
    case decode(path: String, message: String)
    /// No answer: the agent could not be reached or timed out.
    case transport(method: String, path: String, underlying: any Error)
    /// The session was invalidated (TTL, destroy, failed check) or never existed.
    case sessionNotFound(id: String)
    /// Consul answered a list read without what the ACL token may not read
    /// (`X-Consul-Results-Filtered-By-ACLs`): taken as the whole truth, an
    /// incomplete answer would look like a cluster without a master.
    case filteredByACL(method: String, path: String, needed: String)

    var description: String {
        switch self {
        case .http(let method, let path, 403, let body):
            return "Consul refused \(method) \(path) with 403: the ACL token (CONSUL_HTTP_TOKEN) is missing, "
                + "unknown or lacks the permission this call needs. Consul said: \(Self.quoted(body))"
        case .http(let method, let path, let status, let body):
            return "Consul answered \(method) \(path) with HTTP \(status): \(Self.quoted(body))"
        case .decode(let path, let message):
            return "Consul's answer to \(path) is not what its API documents: \(message)"
        case .transport(let method, let path, let underlying):
            return "Consul agent did not answer \(method) \(path): \(underlying)"
        case .sessionNotFound(let id):
            return "Consul session \(id) no longer exists (expired, destroyed or its check failed)"
        case let .filteredByACL(method, path, needed):
            return "Consul left entries out of \(method) \(path) because the ACL token (CONSUL_HTTP_TOKEN) lacks \(needed) "
                + "(X-Consul-Results-Filtered-By-ACLs); an incomplete answer is not taken as the cluster"
        }
    }

    /// Session creation refused because the catalog does not have this node,
    /// or its `serfHealth`, passing yet: an agent just (re)started, before the
    /// leader has reconciled its membership (agent/consul/state/session.go).
    /// It passes within seconds.
    var isNodeNotYetHealthy: Bool {
        guard case let .http(_, path, 500, body) = self, path.hasPrefix("/v1/session/create") else { return false }
        return body.contains("Missing node registration") || body.contains("Missing check 'serfHealth' registration")
            || body.contains("Check 'serfHealth' is in critical state")
    }

    private static func quoted(_ body: String) -> String {
        body.isEmpty ? "(empty body)" : "\"\(body)\""
    }
}
