import Foundation

/// What happens to a session's locked keys when it is invalidated.
enum ConsulSessionBehavior: String, Sendable, Codable {
    case release
    case delete
}

/// The body of `PUT /v1/session/create`. A nil field is left to Consul's
/// default: no TTL, a 15 s lock-delay, `release`, and the `serfHealth` check.
struct ConsulSessionRequest: Sendable, Equatable, Encodable {
    var name: String?
    var node: String?
    /// Seconds; Consul accepts 10 s to 24 h.
    var ttl: Double?
    /// Seconds during which a lock freed by invalidation cannot be taken.
    var lockDelay: Double?
    var behavior: ConsulSessionBehavior?
    /// Check IDs (`Checks`), understood by every Consul version. An empty
    /// list ties the session to no check at all.
    var checks: [String]?
    /// Node check IDs (`NodeChecks`, Consul 1.7+).
    var nodeChecks: [String]?
    /// Service check IDs (`ServiceChecks`, Consul 1.7+).
    var serviceChecks: [String]?

    init(
        name: String? = nil, node: String? = nil, ttl: Double? = nil, lockDelay: Double? = nil,
        behavior: ConsulSessionBehavior? = nil, checks: [String]? = nil, nodeChecks: [String]? = nil,
        serviceChecks: [String]? = nil
    ) {
        self.name = name
        self.node = node
        self.ttl = ttl
        self.lockDelay = lockDelay
        self.behavior = behavior
        self.checks = checks
        self.nodeChecks = nodeChecks
        self.serviceChecks = serviceChecks
    }

    private enum Keys: String, CodingKey {
        case Name, Node, TTL, LockDelay, Behavior, Checks, NodeChecks, ServiceChecks
    }

    private struct ServiceCheckReference: Encodable {
        let ID: String
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(name, forKey: .Name)
        try container.encodeIfPresent(node, forKey: .Node)
        try container.encodeIfPresent(ttl.map { ConsulDuration.format(seconds: $0) }, forKey: .TTL)
        try container.encodeIfPresent(lockDelay.map { ConsulDuration.format(seconds: $0) }, forKey: .LockDelay)
        try container.encodeIfPresent(behavior, forKey: .Behavior)
        try container.encodeIfPresent(checks, forKey: .Checks)
        try container.encodeIfPresent(nodeChecks, forKey: .NodeChecks)
        try container.encodeIfPresent(serviceChecks?.map { ServiceCheckReference(ID: $0) }, forKey: .ServiceChecks)
    }
}

/// A live session as `GET /v1/session/info/<id>` describes it.
struct ConsulSession: Sendable, Equatable, Decodable {
    var id: String
    var name: String
    var node: String
    var behavior: ConsulSessionBehavior
    /// As Consul spells it ("30s"); nil for a session without TTL.
    var ttl: String?
    /// Seconds (Consul answers in nanoseconds, possibly written as 1.5e+10).
    var lockDelay: Double
    /// Node checks, from `NodeChecks` or, on Consul before 1.7, `Checks`.
    var nodeChecks: [String]
    var serviceChecks: [String]
    var createIndex: UInt64
    var modifyIndex: UInt64

    init(
        id: String, name: String = "", node: String, behavior: ConsulSessionBehavior = .release, ttl: String? = nil,
        lockDelay: Double = 15, nodeChecks: [String] = [], serviceChecks: [String] = [],
        createIndex: UInt64 = 0, modifyIndex: UInt64 = 0
    ) {
        self.id = id
        self.name = name
        self.node = node
        self.behavior = behavior
        self.ttl = ttl
        self.lockDelay = lockDelay
        self.nodeChecks = nodeChecks
        self.serviceChecks = serviceChecks
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
    }

    private enum Keys: String, CodingKey {
        case ID, Name, Node, Behavior, TTL, LockDelay, Checks, NodeChecks, ServiceChecks, CreateIndex, ModifyIndex
    }

    private struct ServiceCheckReference: Decodable {
        let ID: String
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = try container.decode(String.self, forKey: .ID)
        node = try container.decode(String.self, forKey: .Node)
        name = try container.decodeIfPresent(String.self, forKey: .Name) ?? ""
        behavior = try container.decodeIfPresent(ConsulSessionBehavior.self, forKey: .Behavior) ?? .release
        ttl = try container.decodeIfPresent(String.self, forKey: .TTL).flatMap { $0.isEmpty ? nil : $0 }
        lockDelay = (try container.decodeIfPresent(Double.self, forKey: .LockDelay) ?? 0) / 1_000_000_000
        nodeChecks = try container.decodeIfPresent([String].self, forKey: .NodeChecks)
            ?? container.decodeIfPresent([String].self, forKey: .Checks) ?? []
        serviceChecks = try container.decodeIfPresent([ServiceCheckReference].self, forKey: .ServiceChecks)?.map(\.ID) ?? []
        createIndex = try container.decodeIfPresent(UInt64.self, forKey: .CreateIndex) ?? 0
        modifyIndex = try container.decodeIfPresent(UInt64.self, forKey: .ModifyIndex) ?? 0
    }
}

extension ConsulClient {
    /// Creates a session and returns its ID.
    func createSession(_ request: ConsulSessionRequest) throws -> String {
        let answer = try exchange("PUT", ConsulRequestTarget("/v1/session/create"), body: encodeJSON(request), json: true)
        return try decode(SessionCreated.self, from: answer).ID
    }

    /// Creates a session, asking again every `pause` seconds for up to
    /// `seconds` while Consul cannot tie one to this node yet
    /// (`ConsulError.isNodeNotYetHealthy`), as after the agent (re)started;
    /// `waiting` is told each time. Any other failure is thrown at once.
    func createSession(_ request: ConsulSessionRequest, waitingUpTo seconds: Double, pause: Double = 1,
                              waiting: (ConsulError) -> Void) throws -> String {
        let deadline = Deadline.after(seconds: seconds)
        while true {
            do {
                return try createSession(request)
            } catch let error as ConsulError where error.isNodeNotYetHealthy && deadline.remainingSeconds > pause {
                waiting(error)
                usleep(useconds_t(pause * 1_000_000))
            }
        }
    }

    /// Restarts a session's TTL. Throws `ConsulError.sessionNotFound` when
    /// the session is gone, so the caller knows its locks are lost.
    @discardableResult
    func renewSession(id: String) throws -> ConsulSession {
        let answer = try exchange("PUT", ConsulRequestTarget("/v1/session/renew/", segment: id), accepted: [404])
        if answer.response.status == 404 { throw ConsulError.sessionNotFound(id: id) }
        guard let session = try decode([ConsulSession]?.self, from: answer)?.first else {
            throw ConsulError.sessionNotFound(id: id)
        }
        return session
    }

    /// Invalidates a session at once; its keys are released or deleted per
    /// its behavior and its lock-delay starts.
    func destroySession(id: String) throws {
        _ = try exchange("PUT", ConsulRequestTarget("/v1/session/destroy/", segment: id))
    }
}

private struct SessionCreated: Decodable {
    let ID: String
}
