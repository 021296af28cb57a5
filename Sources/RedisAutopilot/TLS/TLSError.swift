/// Why a TLS connection could not be made or used. Timeouts and a peer that
/// goes away stay `NetError`s, so callers see one kind of error for silence
/// whether or not the connection is encrypted.
enum TLSError: Error, Equatable, CustomStringConvertible {
    /// libssl could not be loaded or lacks a function we call.
    case libraryUnavailable(String)
    /// The trusted certificates could not be set up (a CA file that cannot be read, say).
    case trustSetup(String)
    /// The server's certificate chain or name did not verify.
    case certificateRejected(endpoint: SocketEndpoint, serverName: String, reason: String)
    /// The handshake failed for another reason: protocol versions, a peer that is not TLS.
    case handshake(endpoint: SocketEndpoint, reason: String)
    /// The encrypted stream broke after the handshake.
    case stream(endpoint: SocketEndpoint, operation: String, reason: String)
    /// The connection ended without TLS close_notify: what came may be cut short.
    case truncated(endpoint: SocketEndpoint)

    var description: String {
        switch self {
        case let .libraryUnavailable(reason):
            return "https is unavailable: \(reason)"
        case let .trustSetup(reason):
            return "cannot set up trusted certificates: \(reason)"
        case let .certificateRejected(endpoint, serverName, reason):
            return "certificate of \(endpoint) rejected for \(serverName): \(reason)"
        case let .handshake(endpoint, reason):
            return "TLS handshake with \(endpoint) failed: \(reason)"
        case let .stream(endpoint, operation, reason):
            return "TLS \(operation) with \(endpoint) failed: \(reason)"
        case let .truncated(endpoint):
            return "\(endpoint) closed the connection without TLS close_notify; what it sent may be cut short"
        }
    }
}
