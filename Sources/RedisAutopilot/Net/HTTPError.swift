/// A request that did not produce a response, with what it was and where it went.
struct HTTPError: Error, CustomStringConvertible {
    enum Failure: Error, CustomStringConvertible {
        case network(NetError)
        case malformedResponse(HTTPParseError)
        case bodyTooLarge(limit: Int)
        case invalidRequest(String)
        case requestBodyLength(declared: Int, actual: Int)
        /// The caller's ByteSource threw while the body was being sent.
        case requestBodyFailed(any Error)
        /// The caller's ByteSink threw while the body was being received.
        case responseSinkFailed(any Error)
        /// TLS could not be set up, negotiated or kept going.
        case tls(TLSError)

        var description: String {
            switch self {
            case let .network(error):
                return error.description
            case let .malformedResponse(error):
                return "malformed response: \(error)"
            case let .bodyTooLarge(limit):
                return "response body exceeds \(limit) bytes"
            case let .invalidRequest(reason):
                return "invalid request: \(reason)"
            case let .requestBodyLength(declared, actual):
                return "request body source gave \(actual) bytes, \(declared) were declared"
            case let .requestBodyFailed(error):
                return "reading the request body failed: \(error)"
            case let .responseSinkFailed(error):
                return "writing the response body failed: \(error)"
            case let .tls(error):
                return error.description
            }
        }
    }

    let method: String
    /// The request path without its query, which may carry a token.
    let path: String
    /// `host:port` as in the Host header.
    let host: String
    let failure: Failure

    init(method: String, target: String, host: String, failure: Failure) {
        self.method = method
        self.path = String(target.prefix { $0 != "?" })
        self.host = host
        self.failure = failure
    }

    /// True when the peer stayed silent longer than the timeout.
    var isTimeout: Bool {
        if case .network(.timeout) = failure { return true }
        return false
    }

    var description: String {
        "\(method) \(host)\(path) failed: \(failure)"
    }
}
