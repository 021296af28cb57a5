import Foundation

/// A node as the health endpoint describes it.
struct ConsulNode: Sendable, Equatable, Decodable {
    var id: String
    /// The node name.
    var node: String
    var address: String
    var datacenter: String
    var meta: [String: String]

    init(id: String = "", node: String, address: String, datacenter: String = "", meta: [String: String] = [:]) {
        self.id = id
        self.node = node
        self.address = address
        self.datacenter = datacenter
        self.meta = meta
    }

    private enum Keys: String, CodingKey {
        case ID, Node, Address, Datacenter, Meta
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        node = try container.decode(String.self, forKey: .Node)
        address = try container.decode(String.self, forKey: .Address)
        id = try container.decodeIfPresent(String.self, forKey: .ID) ?? ""
        datacenter = try container.decodeIfPresent(String.self, forKey: .Datacenter) ?? ""
        meta = try container.decodeIfPresent([String: String].self, forKey: .Meta) ?? [:]
    }
}

/// One instance of a service with its node and every check that bears on it
/// (node checks such as `serfHealth` and the instance's own checks).
struct ConsulServiceEntry: Sendable, Equatable, Decodable {
    var node: ConsulNode
    var service: ConsulService
    var checks: [ConsulHealthCheck]

    init(node: ConsulNode, service: ConsulService, checks: [ConsulHealthCheck]) {
        self.node = node
        self.service = service
        self.checks = checks
    }

    /// Where clients reach the instance: its own address, else its node's.
    var instanceAddress: String {
        service.address.isEmpty ? node.address : service.address
    }

    private enum Keys: String, CodingKey {
        case Node, Service, Checks
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        node = try container.decode(ConsulNode.self, forKey: .Node)
        service = try container.decode(ConsulService.self, forKey: .Service)
        checks = try container.decodeIfPresent([ConsulHealthCheck].self, forKey: .Checks) ?? []
    }
}

/// The answer of a health query and the `X-Consul-Index` it was read at.
struct ConsulServiceHealth: Sendable, Equatable {
    var entries: [ConsulServiceEntry]
    var index: UInt64

    init(entries: [ConsulServiceEntry], index: UInt64) {
        self.entries = entries
        self.index = index
    }
}

/// A service instance as the catalog describes it (flattened with its node).
struct ConsulCatalogService: Sendable, Equatable, Decodable {
    var node: String
    /// The node's address.
    var address: String
    var datacenter: String
    var serviceID: String
    var serviceName: String
    var serviceTags: [String]
    /// Empty when the instance has its node's address.
    var serviceAddress: String
    var servicePort: Int
    var serviceMeta: [String: String]

    init(
        node: String, address: String, datacenter: String = "", serviceID: String, serviceName: String,
        serviceTags: [String] = [], serviceAddress: String = "", servicePort: Int = 0, serviceMeta: [String: String] = [:]
    ) {
        self.node = node
        self.address = address
        self.datacenter = datacenter
        self.serviceID = serviceID
        self.serviceName = serviceName
        self.serviceTags = serviceTags
        self.serviceAddress = serviceAddress
        self.servicePort = servicePort
        self.serviceMeta = serviceMeta
    }

    /// Where clients reach the instance: its own address, else its node's.
    var instanceAddress: String {
        serviceAddress.isEmpty ? address : serviceAddress
    }

    private enum Keys: String, CodingKey {
        case Node, Address, Datacenter, ServiceID, ServiceName, ServiceTags, ServiceAddress, ServicePort, ServiceMeta
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        node = try container.decode(String.self, forKey: .Node)
        address = try container.decode(String.self, forKey: .Address)
        serviceID = try container.decode(String.self, forKey: .ServiceID)
        serviceName = try container.decode(String.self, forKey: .ServiceName)
        datacenter = try container.decodeIfPresent(String.self, forKey: .Datacenter) ?? ""
        serviceTags = try container.decodeIfPresent([String].self, forKey: .ServiceTags) ?? []
        serviceAddress = try container.decodeIfPresent(String.self, forKey: .ServiceAddress) ?? ""
        servicePort = try container.decodeIfPresent(Int.self, forKey: .ServicePort) ?? 0
        serviceMeta = try container.decodeIfPresent([String: String].self, forKey: .ServiceMeta) ?? [:]
    }
}

extension ConsulClient {
    /// The instances of a service with their health, cluster-wide.
    /// `passingOnly` keeps an instance only if every one of its checks and its
    /// node's checks passes.
    func healthService(_ name: String, passingOnly: Bool = false) throws -> ConsulServiceHealth {
        var target = ConsulRequestTarget("/v1/health/service/", segment: name)
        target.flag("passing", passingOnly)
        let answer = try exchange("GET", target)
        guard let header = answer.response.headers["X-Consul-Index"] else {
            throw decodeError(answer, "no X-Consul-Index header")
        }
        guard let index = UInt64(header.trimmingCharacters(in: .whitespaces)) else {
            throw decodeError(answer, "X-Consul-Index \"\(header)\" is not an unsigned integer")
        }
        let entries = try decode([ConsulServiceEntry]?.self, from: answer) ?? []
        return ConsulServiceHealth(entries: entries, index: index)
    }

    /// Every registered instance of a service, healthy or not.
    func catalogService(_ name: String) throws -> [ConsulCatalogService] {
        let target = ConsulRequestTarget("/v1/catalog/service/", segment: name)
        return try decode([ConsulCatalogService]?.self, from: exchange("GET", target)) ?? []
    }
}
