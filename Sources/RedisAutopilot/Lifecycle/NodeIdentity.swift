/// Who this node is to the cluster: the addresses it announces and the
/// Consul IDs derived from them.
struct NodeIdentity: Sendable, Equatable {
    /// The Redis address others reach this node at.
    var announce: NodeAddress
    /// The Sentinel address others reach this node at.
    var sentinelAnnounce: NodeAddress

    /// One ID per role and announced address: unique in the cluster even
    /// when several nodes share a host name, as in the tests.
    func serviceID(_ role: RoleService) -> String {
        "\(role.name)-\(announce.host)-\(announce.port)"
    }

    /// This node's `redis-sentinel` registration, which healthSentinel makes
    /// at the announced Sentinel address.
    var sentinelServiceID: String {
        "\(ClusterNames.sentinelService)-\(sentinelAnnounce.host)-\(sentinelAnnounce.port)"
    }

    /// Consul names the TTL check embedded in a registration `service:<ID>`.
    func checkID(_ role: RoleService) -> String {
        "service:" + serviceID(role)
    }

    var sentinelCheckID: String { "service:" + sentinelServiceID }
}
