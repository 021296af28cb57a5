/// The address other nodes use to reach a Redis or Sentinel: what this node
/// announces, what Consul lists and what Sentinel names.
public struct NodeAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public static func < (lhs: NodeAddress, rhs: NodeAddress) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }
}

extension Array where Element == NodeAddress {
    /// The address named most often, ties broken by address order so every
    /// node that sees the same answers picks the same one.
    func mostNamed() -> (address: NodeAddress, votes: Int)? {
        var counts: [NodeAddress: Int] = [:]
        for address in self { counts[address, default: 0] += 1 }
        return counts
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .first
            .map { (address: $0.key, votes: $0.value) }
    }

    var listed: String {
        isEmpty ? "none" : sorted().map(\.description).joined(separator: ", ")
    }
}
