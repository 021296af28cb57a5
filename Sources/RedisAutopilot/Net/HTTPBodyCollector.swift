extension HTTPResponse {
    /// The default limit on a body kept in memory: large enough for any API
    /// answer we parse (Consul KV listings, S3 XML), small enough that a
    /// misbehaving server cannot exhaust memory.
    static let defaultMaxBufferedBodyBytes = 64 * 1024 * 1024
}

/// Where a response body goes once the status is known: a 2xx body streams
/// into the caller's sink; any other body (or any body without a sink) is
/// kept in memory, up to a limit, so its error can be read.
final class HTTPBodyCollector {
    private let sink: ByteSink?
    private let maxBufferedBytes: Int
    private(set) var buffered: [UInt8] = []

    init(status: Int, sink: ByteSink?, maxBufferedBytes: Int) {
        self.sink = (200..<300).contains(status) ? sink : nil
        self.maxBufferedBytes = maxBufferedBytes
    }

    func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        if let sink {
            do {
                try sink.write(bytes)
            } catch {
                throw HTTPError.Failure.responseSinkFailed(error)
            }
            return
        }
        guard bytes.count <= maxBufferedBytes - buffered.count else {
            throw HTTPError.Failure.bodyTooLarge(limit: maxBufferedBytes)
        }
        buffered.append(contentsOf: bytes)
    }
}

/// Turns bytes read from a connection into one response, with the body
/// going where `HTTPBodyCollector` sends it.
struct HTTPResponseAssembler {
    private var parser: HTTPResponseParser
    private let sink: ByteSink?
    private let maxBufferedBytes: Int
    private var head: HTTPResponseHead?
    private var collector: HTTPBodyCollector?

    init(requestMethod: String, sink: ByteSink?, maxBufferedBytes: Int = HTTPResponse.defaultMaxBufferedBodyBytes) {
        parser = HTTPResponseParser(requestMethod: requestMethod)
        self.sink = sink
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// The response once these bytes complete it, nil while more are needed.
    mutating func consume(_ bytes: [UInt8]) throws -> HTTPResponse? {
        try handle(parser.feed(bytes))
    }

    /// The connection ended: the response if that completes it, else an error.
    mutating func consumeEndOfStream() throws -> HTTPResponse {
        guard let response = try handle(parser.finish()) else {
            throw HTTPParseError.prematureEOF(during: "response")
        }
        return response
    }

    private mutating func handle(_ events: [HTTPResponseEvent]) throws -> HTTPResponse? {
        for event in events {
            switch event {
            case let .head(received):
                head = received
                collector = HTTPBodyCollector(status: received.status, sink: sink, maxBufferedBytes: maxBufferedBytes)
            case let .body(bytes):
                try collector?.append(bytes)
            case .end:
                guard let head else { continue }
                return HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: collector?.buffered ?? [])
            }
        }
        return nil
    }
}
