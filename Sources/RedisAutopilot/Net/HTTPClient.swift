/// HTTP/1.1 over our own deadline-bounded sockets, for every API we call:
/// the local Consul agent, Manta, S3. https:// goes through `TLSConnection`,
/// so both schemes share one parser, one set of timeouts and the same
/// backpressure: a response body is read only as fast as its sink takes it.
///
/// Each request opens its own connection and closes it after the response
/// (`Connection: close`). The peers are a local agent or a backup store hit a
/// few times per run, so a handshake costs less than a connection pool's
/// failure modes (a keep-alive connection the server closed meanwhile, a body
/// left half-read by an error).
final class HTTPClient: HTTPTransport {
    /// Request bodies are read from their source and sent in pieces of this
    /// size, so memory stays bounded whatever the body's length.
    static let bodyPieceSize = 64 * 1024

    let baseURL: HTTPBaseURL
    let maxBufferedBodyBytes: Int
    private let encoder: HTTPRequestEncoder
    private let tlsContext: LazyTLSContext

    init(baseURL: HTTPBaseURL, trust: TLSTrust = .system, maxBufferedBodyBytes: Int = HTTPResponse.defaultMaxBufferedBodyBytes) {
        self.baseURL = baseURL
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.encoder = HTTPRequestEncoder(baseURL: baseURL)
        self.tlsContext = LazyTLSContext(trust: trust)
    }

    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        try exchange(request, sink: nil, timeout: timeout)
    }

    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        try exchange(request, sink: sink, timeout: timeout)
    }

    private func exchange(_ request: HTTPRequest, sink: ByteSink?, timeout: Double) throws -> HTTPResponse {
        do {
            try HTTPRequestEncoder.validate(timeout: timeout)
            try encoder.validate(request)
            let connection = try open(deadline: .after(seconds: timeout))
            defer { connection.close() }
            var assembler = HTTPResponseAssembler(requestMethod: request.method, sink: sink, maxBufferedBytes: maxBufferedBodyBytes)
            do {
                try sendRequest(request, on: connection, timeout: timeout)
            } catch let error as NetError {
                // Without `Expect: 100-continue` a server that refuses an
                // upload (401, 413) answers and closes before reading it all;
                // its answer says more than the broken pipe. A success would
                // be for a body it never got whole, so that stays an error.
                if let early = try? readResponse(from: connection, into: &assembler, timeout: timeout),
                   !(200..<300).contains(early.status) {
                    return early
                }
                throw error
            }
            return try readResponse(from: connection, into: &assembler, timeout: timeout)
        } catch let failure as HTTPError.Failure {
            throw contextualized(failure, request)
        } catch let error as NetError {
            throw contextualized(.network(error), request)
        } catch let error as HTTPParseError {
            throw contextualized(.malformedResponse(error), request)
        } catch let error as TLSError {
            throw contextualized(.tls(error), request)
        }
    }

    /// The deadline covers the TCP connect and the TLS handshake together.
    private func open(deadline: Deadline) throws -> StreamConnection {
        guard baseURL.scheme == .https else {
            return try SocketConnection.connect(to: baseURL.endpoint, deadline: deadline)
        }
        let context = try tlsContext.get()
        let socket = try SocketConnection.connect(to: baseURL.endpoint, deadline: deadline)
        return try TLSConnection.handshake(over: socket, serverName: baseURL.host, context: context, deadline: deadline)
    }

    private func contextualized(_ failure: HTTPError.Failure, _ request: HTTPRequest) -> HTTPError {
        HTTPError(method: request.method, target: baseURL.fullTarget(request.target), host: baseURL.hostHeader, failure: failure)
    }

    private func sendRequest(_ request: HTTPRequest, on connection: StreamConnection, timeout: Double) throws {
        let head = encoder.head(request)
        switch request.body {
        case .empty:
            try write(head, to: connection, timeout: timeout)
        case let .bytes(bytes):
            if bytes.count <= Self.bodyPieceSize {
                try write(head + bytes, to: connection, timeout: timeout)
            } else {
                try write(head, to: connection, timeout: timeout)
                try write(bytes, to: connection, timeout: timeout)
            }
        case let .stream(length?, source):
            try write(head, to: connection, timeout: timeout)
            try streamBody(from: source, length: length, to: connection, timeout: timeout)
        case let .stream(nil, source):
            try write(head, to: connection, timeout: timeout)
            try streamChunkedBody(from: source, to: connection, timeout: timeout)
        }
    }

    /// Each piece gets its own deadline: the timeout bounds silence, not the transfer.
    private func write(_ bytes: [UInt8], to connection: StreamConnection, timeout: Double) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            repeat {
                let end = min(offset + Self.bodyPieceSize, buffer.count)
                try connection.write(UnsafeRawBufferPointer(rebasing: buffer[offset..<end]), deadline: .after(seconds: timeout))
                offset = end
            } while offset < buffer.count
        }
    }

    private func streamBody(from source: ByteSource, length: Int, to connection: StreamConnection, timeout: Double) throws {
        var sent = 0
        while sent < length {
            let piece = try read(from: source, maxBytes: min(Self.bodyPieceSize, length - sent))
            guard !piece.isEmpty else { throw HTTPError.Failure.requestBodyLength(declared: length, actual: sent) }
            guard piece.count <= length - sent else {
                throw HTTPError.Failure.requestBodyLength(declared: length, actual: sent + piece.count)
            }
            if sent + piece.count == length {
                // Checked before the last piece goes out, so that the server
                // sees a truncated body rather than a complete wrong one.
                let surplus = try read(from: source, maxBytes: 1)
                if !surplus.isEmpty {
                    throw HTTPError.Failure.requestBodyLength(declared: length, actual: length + surplus.count)
                }
            }
            try write(piece, to: connection, timeout: timeout)
            sent += piece.count
        }
    }

    private func streamChunkedBody(from source: ByteSource, to connection: StreamConnection, timeout: Double) throws {
        while true {
            let piece = try read(from: source, maxBytes: Self.bodyPieceSize)
            if piece.isEmpty { break }
            try write(Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10], to: connection, timeout: timeout)
        }
        try write(Array("0\r\n\r\n".utf8), to: connection, timeout: timeout)
    }

    private func read(from source: ByteSource, maxBytes: Int) throws -> [UInt8] {
        do {
            return try source.read(maxBytes: maxBytes)
        } catch {
            throw HTTPError.Failure.requestBodyFailed(error)
        }
    }

    private func readResponse(from connection: StreamConnection, into assembler: inout HTTPResponseAssembler, timeout: Double) throws -> HTTPResponse {
        while true {
            let bytes = try connection.read(maxBytes: Self.bodyPieceSize, deadline: .after(seconds: timeout))
            if bytes.isEmpty { return try assembler.consumeEndOfStream() }
            if let response = try assembler.consume(bytes) { return response }
        }
    }
}
