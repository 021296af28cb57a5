/// The Redis commands the lifecycle and backups use, over one connection.
/// Every call is bounded by the connection's timeout unless it takes its own.
final class RedisClient {
    enum ShutdownMode: String, Sendable {
        case save = "SAVE"
        case noSave = "NOSAVE"
    }

    /// How the server took a BGSAVE.
    enum BackgroundSave: Sendable, Equatable {
        case started
        /// Queued behind a running AOF rewrite (BGSAVE SCHEDULE).
        case scheduled
    }

    let connection: RedisConnection

    var endpoint: SocketEndpoint { connection.endpoint }

    init(connection: RedisConnection) {
        self.connection = connection
    }

    static func connect(to endpoint: SocketEndpoint, credentials: RedisCredentials? = nil, timeout: Double) throws -> RedisClient {
        RedisClient(connection: try RedisConnection.open(to: endpoint, credentials: credentials, timeout: timeout))
    }

    func close() {
        connection.close()
    }

    /// Any command; an error reply throws `RedisError.server`.
    @discardableResult
    func command(_ arguments: [String], timeout: Double? = nil) throws -> RESPValue {
        try connection.call(arguments, timeout: timeout)
    }

    @discardableResult
    func command(_ arguments: [[UInt8]], timeout: Double? = nil) throws -> RESPValue {
        try connection.call(arguments, timeout: timeout)
    }

    func ping() throws {
        try connection.ping()
    }

    func info(section: String? = nil) throws -> RedisInfo {
        try connection.info(section: section)
    }

    func serverVersion() throws -> RedisVersion {
        try connection.serverVersion()
    }

    func role() throws -> RedisRole {
        let reply = try command(["ROLE"])
        guard let role = RedisRole(reply: reply) else { throw unexpected("ROLE", reply) }
        return role
    }

    /// CONFIG GET with a name or glob pattern: each matching parameter to its value.
    func configGet(_ pattern: String) throws -> [String: String] {
        let reply = try command(["CONFIG", "GET", pattern])
        // The values can be passwords, so a bad reply is described, not quoted.
        let malformed = RedisError.unexpectedReply(endpoint: endpoint, command: "CONFIG GET", reply: "not a list of name/value pairs")
        guard let elements = reply.array, elements.count % 2 == 0 else { throw malformed }
        var values: [String: String] = [:]
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let name = elements[index].text, let value = elements[index + 1].text else { throw malformed }
            values[name] = value
        }
        return values
    }

    func configSet(_ parameter: String, _ value: String) throws {
        try expectOK(command(["CONFIG", "SET", parameter, value]), "CONFIG SET")
    }

    /// BGSAVE; with `schedule` it is queued instead of refused while an AOF
    /// rewrite runs. Completion shows in INFO persistence.
    func bgsave(schedule: Bool = false) throws -> BackgroundSave {
        let reply = try command(schedule ? ["BGSAVE", "SCHEDULE"] : ["BGSAVE"])
        guard let text = reply.text else { throw unexpected("BGSAVE", reply) }
        if text.lowercased().contains("scheduled") { return .scheduled }
        if text.lowercased().contains("started") { return .started }
        throw unexpected("BGSAVE", reply)
    }

    /// Unix time of the last successful save.
    func lastSave() throws -> Int64 {
        let reply = try command(["LASTSAVE"])
        guard let time = reply.integer else { throw unexpected("LASTSAVE", reply) }
        return time
    }

    /// SHUTDOWN. A server that shuts down closes the connection without a
    /// reply, so that is the success; an error reply (the save failed) throws.
    /// Saving a large dataset takes a while: pass a longer `timeout`.
    func shutdown(_ mode: ShutdownMode? = nil, timeout: Double? = nil) throws {
        let arguments = ["SHUTDOWN"] + (mode.map { [$0.rawValue] } ?? [])
        let deadline = Deadline.after(seconds: timeout ?? connection.timeout)
        try connection.transmit(arguments.map { Array($0.utf8) }, deadline: deadline)
        let reply: RESPValue
        do {
            reply = try connection.receive(for: "SHUTDOWN", deadline: deadline)
        } catch RedisError.network(_, .closedByPeer) {
            return
        }
        if case let .error(message) = reply {
            throw RedisError.server(endpoint: endpoint, command: "SHUTDOWN", message: message)
        }
        throw unexpected("SHUTDOWN", reply)
    }

    /// Makes the server a replica of host:port.
    func replicaOf(host: String, port: Int) throws {
        try expectOK(command(["REPLICAOF", host, String(port)]), "REPLICAOF")
    }

    /// Promotes the server to master, keeping its data.
    func replicaOfNoOne() throws {
        try expectOK(command(["REPLICAOF", "NO", "ONE"]), "REPLICAOF")
    }

    private func expectOK(_ reply: RESPValue, _ command: String) throws {
        guard case .simpleString = reply else { throw unexpected(command, reply) }
    }

    private func unexpected(_ command: String, _ reply: RESPValue) -> RedisError {
        .unexpectedReply(endpoint: endpoint, command: command, reply: reply.description)
    }
}
