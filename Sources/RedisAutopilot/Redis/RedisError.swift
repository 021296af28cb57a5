/// What went wrong talking to Redis or Sentinel. Every case names the
/// endpoint; commands are named by their verb (and subcommand) only, never
/// with arguments, because arguments can be passwords.
enum RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Connecting, sending or receiving failed, or the deadline passed.
    case network(command: String, error: NetError)
    /// The peer sent bytes that are not RESP2.
    case protocolViolation(endpoint: SocketEndpoint, command: String, error: RESPError)
    /// The server answered with an error reply.
    case server(endpoint: SocketEndpoint, command: String, message: String)
    /// AUTH was refused. Carries the user name, never the password.
    case authenticationFailed(endpoint: SocketEndpoint, username: String?, message: String)
    /// The reply is valid RESP but not the shape this command answers with.
    case unexpectedReply(endpoint: SocketEndpoint, command: String, reply: String)
    /// The reply names a host and port that cannot be an address (see `NodeAddress`).
    case invalidAddress(endpoint: SocketEndpoint, command: String, error: NodeAddressError)
    /// An earlier failure left the connection out of step with the server;
    /// it was closed rather than risk pairing a late reply with a new command.
    case connectionClosed(endpoint: SocketEndpoint)

    var endpoint: SocketEndpoint {
        switch self {
        case let .network(_, error): return Self.endpoint(of: error)
        case let .protocolViolation(endpoint, _, _),
             let .server(endpoint, _, _),
             let .authenticationFailed(endpoint, _, _),
             let .unexpectedReply(endpoint, _, _),
             let .invalidAddress(endpoint, _, _),
             let .connectionClosed(endpoint):
            return endpoint
        }
    }

    /// True when the peer sent bytes that are not RESP2 or break its limits.
    var isProtocolViolation: Bool {
        if case .protocolViolation = self { return true }
        return false
    }

    /// True when the server did not answer in time.
    var isTimeout: Bool {
        if case .network(_, .timeout) = self { return true }
        return false
    }

    var description: String {
        switch self {
        case let .network(command, error):
            return "\(command): \(error)"
        case let .protocolViolation(endpoint, command, error):
            return "\(command) to \(endpoint): \(error)"
        case let .server(endpoint, command, message):
            return "\(command) refused by \(endpoint): \(message)"
        case let .authenticationFailed(endpoint, username, message):
            let who = username.map { "user '\($0)'" } ?? "the default user"
            return "authentication as \(who) failed at \(endpoint): \(message)"
        case let .unexpectedReply(endpoint, command, reply):
            return "\(command) to \(endpoint): unexpected reply \(reply)"
        case let .invalidAddress(endpoint, command, error):
            return "\(command) to \(endpoint): the reply names an address that is not one: \(error)"
        case let .connectionClosed(endpoint):
            return "connection to \(endpoint) was closed after an earlier failure"
        }
    }

    private static func endpoint(of error: NetError) -> SocketEndpoint {
        switch error {
        case let .resolve(endpoint, _), let .connect(endpoint, _), let .timeout(endpoint, _),
             let .io(endpoint, _, _), let .closedByPeer(endpoint):
            return endpoint
        }
    }
}
