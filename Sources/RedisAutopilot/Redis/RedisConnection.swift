import Foundation

/// One connection to a Redis server or Sentinel: sends a command, waits for
/// its reply, each round trip bounded by the timeout. Shared by `RedisClient`
/// and `SentinelClient`.
///
/// After a network or protocol failure the connection is closed: a reply
/// arriving late would otherwise be taken as the answer to the next command.
final class RedisConnection {
    let endpoint: SocketEndpoint
    /// Seconds a command may take, from sending it to its complete reply.
    let timeout: Double
    private var socket: SocketConnection?
    private var decoder = RESPDecoder()
    private var cachedVersion: RedisVersion?

    private init(endpoint: SocketEndpoint, socket: SocketConnection, timeout: Double) {
        self.endpoint = endpoint
        self.socket = socket
        self.timeout = timeout
    }

    /// Connects, then authenticates when credentials are given. The connect
    /// and AUTH are each bounded by `timeout`.
    static func open(to endpoint: SocketEndpoint, credentials: RedisCredentials? = nil, timeout: Double) throws -> RedisConnection {
        let socket: SocketConnection
        do {
            socket = try SocketConnection.connect(to: endpoint, deadline: .after(seconds: timeout))
        } catch let error as NetError {
            throw RedisError.network(command: "connect", error: error)
        }
        let connection = RedisConnection(endpoint: endpoint, socket: socket, timeout: timeout)
        if let credentials {
            try connection.authenticate(credentials)
        }
        return connection
    }

    private func authenticate(_ credentials: RedisCredentials) throws {
        let reply = try send(credentials.authArguments.map { Array($0.utf8) })
        switch reply {
        case .simpleString:
            return
        case let .error(message):
            close()
            throw RedisError.authenticationFailed(endpoint: endpoint, username: credentials.username,
                                                  message: Self.redact(credentials.password, in: message))
        default:
            close()
            throw RedisError.unexpectedReply(endpoint: endpoint, command: "AUTH", reply: reply.description)
        }
    }

    /// Servers do not echo the password today; this keeps it so if one ever does.
    private static func redact(_ secret: String, in message: String) -> String {
        secret.isEmpty ? message : message.replacingOccurrences(of: secret, with: "<redacted>")
    }

    /// Sends a command and returns its reply; an error reply is returned as
    /// `.error`, not thrown.
    func send(_ arguments: [[UInt8]], timeout: Double? = nil) throws -> RESPValue {
        let deadline = Deadline.after(seconds: timeout ?? self.timeout)
        try transmit(arguments, deadline: deadline)
        return try receive(for: CommandName.of(arguments), deadline: deadline)
    }

    func send(_ arguments: [String], timeout: Double? = nil) throws -> RESPValue {
        try send(arguments.map { Array($0.utf8) }, timeout: timeout)
    }

    /// Sends a command; an error reply throws `RedisError.server`.
    func call(_ arguments: [[UInt8]], timeout: Double? = nil) throws -> RESPValue {
        let reply = try send(arguments, timeout: timeout)
        if case let .error(message) = reply {
            throw RedisError.server(endpoint: endpoint, command: CommandName.of(arguments), message: message)
        }
        return reply
    }

    func call(_ arguments: [String], timeout: Double? = nil) throws -> RESPValue {
        try call(arguments.map { Array($0.utf8) }, timeout: timeout)
    }

    /// The server's `redis_version`, asked once per connection.
    func serverVersion() throws -> RedisVersion {
        if let cachedVersion { return cachedVersion }
        let info = try self.info(section: "server")
        guard let version = info.redisVersion else {
            throw RedisError.unexpectedReply(endpoint: endpoint, command: "INFO", reply: "no valid redis_version")
        }
        cachedVersion = version
        return version
    }

    /// INFO, of one section or of the default set.
    func info(section: String? = nil) throws -> RedisInfo {
        let reply = try call(["INFO"] + (section.map { [$0] } ?? []))
        guard let text = reply.text else {
            throw RedisError.unexpectedReply(endpoint: endpoint, command: "INFO", reply: reply.description)
        }
        let info: RedisInfo
        do {
            info = try RedisInfo(parsing: text)
        } catch let error as RedisInfoError {
            throw RedisError.unexpectedReply(endpoint: endpoint, command: "INFO", reply: error.description)
        }
        if cachedVersion == nil { cachedVersion = info.redisVersion }
        return info
    }

    func ping() throws {
        let reply = try call(["PING"])
        guard reply.text == "PONG" else {
            throw RedisError.unexpectedReply(endpoint: endpoint, command: "PING", reply: reply.description)
        }
    }

    func transmit(_ arguments: [[UInt8]], deadline: Deadline) throws {
        let name = CommandName.of(arguments)
        guard let socket else { throw RedisError.connectionClosed(endpoint: endpoint) }
        do {
            try socket.write(RESPEncoder.command(arguments), deadline: deadline)
        } catch let error as NetError {
            close()
            throw RedisError.network(command: name, error: error)
        }
    }

    /// Reads until one complete reply is decoded. The end of the stream
    /// before that is `NetError.closedByPeer`.
    func receive(for command: String, deadline: Deadline) throws -> RESPValue {
        guard let socket else { throw RedisError.connectionClosed(endpoint: endpoint) }
        do {
            while true {
                if let value = try decoder.next() { return value }
                let bytes = try socket.read(deadline: deadline)
                if bytes.isEmpty { throw NetError.closedByPeer(endpoint: endpoint) }
                decoder.feed(bytes)
            }
        } catch let error as NetError {
            close()
            throw RedisError.network(command: command, error: error)
        } catch let error as RESPError {
            close()
            throw RedisError.protocolViolation(endpoint: endpoint, command: command, error: error)
        }
    }

    var isOpen: Bool { socket != nil }

    func close() {
        socket?.close()
        socket = nil
    }
}
