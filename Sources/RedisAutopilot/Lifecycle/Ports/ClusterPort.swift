/// A registration of one of this node's services on its local agent.
struct LocalService: Sendable, Equatable {
    var id: String
    var name: String
    /// nil when the registration announces something that is not an address.
    var address: NodeAddress?
}

/// What a service registration asks of the agent: a TTL check embedded,
/// reaped once critical for `reapAfter`.
struct ServiceRegistration: Sendable, Equatable {
    var id: String
    var name: String
    var address: NodeAddress
    var ttl: Duration
    var reapAfter: Duration
}

enum CheckStatus: Sendable, Equatable {
    case passing
    case warning
    case critical
}

/// What an acquire of a lock key came to.
enum LockAttempt: Sendable, Equatable {
    case acquired
    /// Held by another session, or its lock-delay still runs.
    case busy
    /// Consul no longer knows the session: its locks are gone.
    case sessionGone
}

/// A held lock key: the session holding it and the value its holder wrote.
struct LockHolding: Sendable, Equatable {
    var session: String
    var value: String?
}

/// The cluster as the hooks see it through Consul: who is registered and
/// passing, this node's own registrations and checks, cluster-wide settings
/// and the session locks. Answers are domain results, never HTTP statuses;
/// instances that do not name an address are left out (and refused in the
/// log) by the implementation.
protocol ClusterPort {
    /// The Consul leader's address, nil while there is none.
    func leader() throws -> String?
    /// Instances whose every check passes.
    func passing(_ service: String) throws -> [NodeAddress]
    /// Every instance in the catalog, passing or not.
    func registered(_ service: String) throws -> [NodeAddress]
    /// Instances none of whose checks is critical: alive, whatever their state.
    func live(_ service: String) throws -> [NodeAddress]

    func localServices() throws -> [LocalService]
    func register(_ registration: ServiceRegistration) throws
    /// A service that is not registered is not an error.
    func deregister(id: String) throws
    /// False when the agent has no such check.
    @discardableResult
    func setCheck(id: String, to status: CheckStatus, note: String) throws -> Bool

    /// A cluster-wide setting from the KV store, nil when the key is absent.
    func setting(_ key: String) throws -> String?

    func createSession(name: String, ttl: Duration, lockDelay: Duration) throws -> String
    func acquire(_ key: String, session: String, value: String) throws -> LockAttempt
    /// False when Consul no longer knows the session.
    func renew(session: String) throws -> Bool
    /// Releases the key if the session holds it and destroys the session; a
    /// session Consul no longer knows is not an error.
    func release(_ key: String, session: String, value: String) throws
    /// Who holds the key, nil when it is free.
    func holder(of key: String) throws -> LockHolding?
}
