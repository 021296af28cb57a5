/// The health of a check, as Consul spells it.
enum ConsulCheckStatus: String, Sendable, Codable {
    case passing
    case warning
    case critical
}

/// A service instance as the agent and the health endpoint describe it.
struct ConsulService: Sendable, Equatable, Decodable {
    var id: String
    /// The service name (Consul's `Service` field).
    var name: String
    var tags: [String]
    /// Empty when the instance was registered without one: it then has its node's address.
    var address: String
    var port: Int
    var meta: [String: String]

    init(id: String, name: String, tags: [String] = [], address: String = "", port: Int = 0, meta: [String: String] = [:]) {
        self.id = id
        self.name = name
        self.tags = tags
        self.address = address
        self.port = port
        self.meta = meta
    }

    private enum Keys: String, CodingKey {
        case ID, Service, Tags, Address, Port, Meta
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = try container.decode(String.self, forKey: .ID)
        name = try container.decode(String.self, forKey: .Service)
        tags = try container.decodeIfPresent([String].self, forKey: .Tags) ?? []
        address = try container.decodeIfPresent(String.self, forKey: .Address) ?? ""
        port = try container.decodeIfPresent(Int.self, forKey: .Port) ?? 0
        meta = try container.decodeIfPresent([String: String].self, forKey: .Meta) ?? [:]
    }
}

/// A check as the agent and the health endpoint describe it.
struct ConsulHealthCheck: Sendable, Equatable, Decodable {
    var node: String
    var checkID: String
    var name: String
    var status: ConsulCheckStatus
    var notes: String
    var output: String
    /// Empty for a node check such as `serfHealth`.
    var serviceID: String
    var serviceName: String

    init(
        node: String = "", checkID: String, name: String = "", status: ConsulCheckStatus,
        notes: String = "", output: String = "", serviceID: String = "", serviceName: String = ""
    ) {
        self.node = node
        self.checkID = checkID
        self.name = name
        self.status = status
        self.notes = notes
        self.output = output
        self.serviceID = serviceID
        self.serviceName = serviceName
    }

    private enum Keys: String, CodingKey {
        case Node, CheckID, Name, Status, Notes, Output, ServiceID, ServiceName
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        checkID = try container.decode(String.self, forKey: .CheckID)
        status = try container.decode(ConsulCheckStatus.self, forKey: .Status)
        node = try container.decodeIfPresent(String.self, forKey: .Node) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .Name) ?? ""
        notes = try container.decodeIfPresent(String.self, forKey: .Notes) ?? ""
        output = try container.decodeIfPresent(String.self, forKey: .Output) ?? ""
        serviceID = try container.decodeIfPresent(String.self, forKey: .ServiceID) ?? ""
        serviceName = try container.decodeIfPresent(String.self, forKey: .ServiceName) ?? ""
    }
}

/// The TTL check embedded in a service registration. Consul gives it the ID
/// `service:<service ID>` unless `checkID` is set.
struct ConsulServiceTTLCheck: Sendable, Equatable, Encodable {
    var checkID: String?
    var name: String?
    /// Seconds the check stays in its last state without being reported.
    var ttl: Double
    /// Seconds after which Consul removes the instance whose check stays critical.
    var deregisterCriticalServiceAfter: Double
    var notes: String?
    /// The status before the first report (Consul's default is critical).
    var status: ConsulCheckStatus?

    init(
        ttl: Double, deregisterCriticalServiceAfter: Double, checkID: String? = nil, name: String? = nil,
        notes: String? = nil, status: ConsulCheckStatus? = nil
    ) {
        self.ttl = ttl
        self.deregisterCriticalServiceAfter = deregisterCriticalServiceAfter
        self.checkID = checkID
        self.name = name
        self.notes = notes
        self.status = status
    }

    private enum Keys: String, CodingKey {
        case CheckID, Name, TTL, DeregisterCriticalServiceAfter, Notes, Status
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(checkID, forKey: .CheckID)
        try container.encodeIfPresent(name, forKey: .Name)
        try container.encode(ConsulDuration.format(seconds: ttl), forKey: .TTL)
        try container.encode(
            ConsulDuration.format(seconds: deregisterCriticalServiceAfter), forKey: .DeregisterCriticalServiceAfter)
        try container.encodeIfPresent(notes, forKey: .Notes)
        try container.encodeIfPresent(status, forKey: .Status)
    }
}

/// The body of `PUT /v1/agent/service/register`.
struct ConsulServiceRegistration: Sendable, Equatable, Encodable {
    var id: String
    var name: String
    var tags: [String]
    var address: String?
    var port: Int?
    var meta: [String: String]
    var check: ConsulServiceTTLCheck?

    init(
        id: String, name: String, tags: [String] = [], address: String? = nil, port: Int? = nil,
        meta: [String: String] = [:], check: ConsulServiceTTLCheck? = nil
    ) {
        self.id = id
        self.name = name
        self.tags = tags
        self.address = address
        self.port = port
        self.meta = meta
        self.check = check
    }

    private enum Keys: String, CodingKey {
        case ID, Name, Tags, Address, Port, Meta, Check
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(id, forKey: .ID)
        try container.encode(name, forKey: .Name)
        try container.encode(tags, forKey: .Tags)
        try container.encodeIfPresent(address, forKey: .Address)
        try container.encodeIfPresent(port, forKey: .Port)
        try container.encode(meta, forKey: .Meta)
        try container.encodeIfPresent(check, forKey: .Check)
    }
}
