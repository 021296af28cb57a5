/// Checks a request and renders its head for the wire. Framing headers
/// (Content-Length, Transfer-Encoding, Connection) are always ours, derived
/// from the body, so a caller's stale value can never desynchronise the stream.
struct HTTPRequestEncoder {
    static let framingHeaders = ["content-length", "transfer-encoding", "connection"]

    /// A day: longer than any silence worth waiting for, and far from the
    /// values that would overflow a deadline.
    static let maxTimeout = 86400.0

    let baseURL: HTTPBaseURL

    static func validate(timeout: Double) throws {
        guard timeout > 0, timeout <= maxTimeout else {
            throw HTTPError.Failure.invalidRequest("timeout must be between 0 and \(Int(maxTimeout)) seconds")
        }
    }

    /// Rejects what would let a value break out of its place in the head
    /// (a CR/LF in a header, a space in the target).
    func validate(_ request: HTTPRequest) throws {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(HTTPResponseParser.isTokenByte) else {
            throw HTTPError.Failure.invalidRequest("method is not a token")
        }
        guard request.target.hasPrefix("/"), request.target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPError.Failure.invalidRequest("target must start with / and be percent-encoded ASCII")
        }
        for field in request.headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(HTTPResponseParser.isTokenByte) else {
                throw HTTPError.Failure.invalidRequest("header name \"\(HTTPParseError.quote(Array(field.name.utf8)))\" is not a token")
            }
            guard !field.value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw HTTPError.Failure.invalidRequest("header \(field.name) contains CR, LF or NUL")
            }
        }
        if case let .stream(length?, _) = request.body, length < 0 {
            throw HTTPError.Failure.invalidRequest("negative body length \(length)")
        }
    }

    /// The request line and headers, ending with the blank line.
    func head(_ request: HTTPRequest) -> [UInt8] {
        var headers = HTTPHeaders()
        if request.headers["Host"] == nil {
            headers.add("Host", baseURL.hostHeader)
        }
        for field in request.headers where !Self.framingHeaders.contains(field.name.lowercased()) {
            headers.add(field.name, field.value)
        }
        switch request.body {
        case .empty:
            // Servers may answer 411 to a POST or PUT without a length.
            let method = request.method.uppercased()
            if method != "GET" && method != "HEAD" { headers.add("Content-Length", "0") }
        case let .bytes(bytes):
            headers.add("Content-Length", String(bytes.count))
        case let .stream(length?, _):
            headers.add("Content-Length", String(length))
        case .stream(nil, _):
            headers.add("Transfer-Encoding", "chunked")
        }
        headers.add("Connection", "close")

        var text = "\(request.method) \(baseURL.fullTarget(request.target)) HTTP/1.1\r\n"
        for field in headers {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}
