/// The Sentinel commands the lifecycle uses, over one connection.
final class SentinelClient {
    let connection: RedisConnection

    var endpoint: SocketEndpoint { connection.endpoint }

    init(connection: RedisConnection) {
        self.connection = connection
    }

    static func connect(to endpoint: SocketEndpoint, credentials: RedisCredentials? = nil, timeout: Double) throws -> SentinelClient {
        SentinelClient(connection: try RedisConnection.open(to: endpoint, credentials: credentials, timeout: timeout))
    }

    func close() {
        connection.close()
    }

    func ping() throws {
        try connection.ping()
    }

    /// The address of the current master, or nil when the name is not monitored.
    /// A reply whose host or port cannot be an address throws `RedisError.invalidAddress`.
    func masterAddress(name: String) throws -> NodeAddress? {
        let reply = try sentinel("GET-MASTER-ADDR-BY-NAME", name)
        if reply.isNull { return nil }
        guard let pair = reply.array, pair.count == 2, let host = pair[0].text, let port = pair[1].text else {
            throw unexpected("GET-MASTER-ADDR-BY-NAME", reply)
        }
        do {
            return try NodeAddress(host: host, portText: port)
        } catch {
            throw RedisError.invalidAddress(endpoint: endpoint, command: "SENTINEL GET-MASTER-ADDR-BY-NAME", error: error)
        }
    }

    func master(name: String) throws -> SentinelMaster {
        let reply = try sentinel("MASTER", name)
        guard let fields = SentinelMaster.parseFields(reply) else { throw unexpected("MASTER", reply) }
        return SentinelMaster(fields: fields)
    }

    func replicas(name: String) throws -> [SentinelReplica] {
        try list("REPLICAS", [name]).map(SentinelReplica.init(fields:))
    }

    func sentinels(name: String) throws -> [SentinelPeer] {
        try list("SENTINELS", [name]).map(SentinelPeer.init(fields:))
    }

    /// Forgets the state of every master whose name matches the glob
    /// pattern; returns how many matched.
    @discardableResult
    func reset(pattern: String) throws -> Int {
        let reply = try sentinel("RESET", pattern)
        guard let count = reply.integer, let matched = Int(exactly: count) else { throw unexpected("RESET", reply) }
        return matched
    }

    /// Starts a failover without asking other sentinels. Returns once it has
    /// started; watch `masterAddress` for the switch.
    func failover(name: String) throws {
        let reply = try sentinel("FAILOVER", name)
        guard case .simpleString = reply else { throw unexpected("FAILOVER", reply) }
    }

    /// A NOQUORUM answer is a result, not an error; an unknown master still throws.
    func checkQuorum(name: String) throws -> SentinelQuorumCheck {
        let reply = try connection.send(["SENTINEL", "CKQUORUM", name])
        switch reply {
        case let .simpleString(message):
            return SentinelQuorumCheck(reachable: true, message: message)
        case let .error(message) where message.hasPrefix("NOQUORUM"):
            return SentinelQuorumCheck(reachable: false, message: message)
        case let .error(message):
            throw RedisError.server(endpoint: endpoint, command: "SENTINEL CKQUORUM", message: message)
        default:
            throw unexpected("CKQUORUM", reply)
        }
    }

    private func sentinel(_ subcommand: String, _ arguments: String...) throws -> RESPValue {
        try connection.call(["SENTINEL", subcommand] + arguments)
    }

    private func list(_ subcommand: String, _ arguments: [String]) throws -> [[String: String]] {
        let reply = try connection.call(["SENTINEL", subcommand] + arguments)
        guard let entries = reply.array else { throw unexpected(subcommand, reply) }
        return try entries.map { entry in
            guard let fields = SentinelMaster.parseFields(entry) else { throw unexpected(subcommand, reply) }
            return fields
        }
    }

    private func unexpected(_ subcommand: String, _ reply: RESPValue) -> RedisError {
        .unexpectedReply(endpoint: endpoint, command: "SENTINEL \(subcommand)", reply: reply.description)
    }
}
