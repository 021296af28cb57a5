/// The reply to ROLE: what the server says it is right now, in one answer.
/// Addresses are `NodeAddress`es: a reply naming anything else is not ROLE's shape.
enum RedisRole: Sendable, Equatable {
    struct Replica: Sendable, Equatable {
        var address: NodeAddress
        var offset: Int64

        init(address: NodeAddress, offset: Int64) {
            self.address = address
            self.offset = offset
        }
    }

    case master(offset: Int64, replicas: [Replica])
    /// `state` is `connect`, `connecting`, `sync`, `connected` or `handshake`.
    case replica(master: NodeAddress, state: String, offset: Int64)
    case sentinel(masterNames: [String])

    /// Reads a ROLE reply; nil when it does not have the documented shape.
    init?(reply: RESPValue) {
        guard let elements = reply.array, let kind = elements.first?.text else { return nil }
        switch kind {
        case "master":
            guard elements.count >= 3, let offset = elements[1].integer, let list = elements[2].array else { return nil }
            var replicas: [Replica] = []
            for entry in list {
                // Host, port and offset all arrive as bulk strings here.
                guard let fields = entry.array, fields.count >= 3, let host = fields[0].text, let port = fields[1].text,
                      let address = try? NodeAddress(host: host, portText: port),
                      let replicaOffset = fields[2].text.flatMap({ Int64($0) }) else { return nil }
                replicas.append(Replica(address: address, offset: replicaOffset))
            }
            self = .master(offset: offset, replicas: replicas)
        case "slave", "replica":
            guard elements.count >= 5, let host = elements[1].text, let port = elements[2].integer,
                  let state = elements[3].text, let offset = elements[4].integer,
                  let portNumber = Int(exactly: port), let master = try? NodeAddress(host: host, port: portNumber) else { return nil }
            self = .replica(master: master, state: state, offset: offset)
        case "sentinel":
            guard elements.count >= 2, let names = elements[1].array else { return nil }
            var masterNames: [String] = []
            for name in names {
                guard let text = name.text else { return nil }
                masterNames.append(text)
            }
            self = .sentinel(masterNames: masterNames)
        default:
            return nil
        }
    }
}
