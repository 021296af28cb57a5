/// Header fields in the order they were given; names compare case-insensitively.
struct HTTPHeaders: Sendable, Equatable, Sequence {
    private(set) var fields: [(name: String, value: String)]

    init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    func values(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// Replaces every field of that name with one field.
    mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name: name, value: value))
    }

    mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    mutating func remove(_ name: String) {
        let wanted = name.lowercased()
        fields.removeAll { $0.name.lowercased() == wanted }
    }

    func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A producer of bytes read in pieces, so that a request body of any size is
/// sent without being held in memory. An empty answer means the end.
protocol ByteSource: AnyObject {
    func read(maxBytes: Int) throws -> [UInt8]
}

/// A consumer of bytes written in pieces, so that a response body of any size
/// is received without being held in memory.
protocol ByteSink: AnyObject {
    func write(_ bytes: [UInt8]) throws
}

enum HTTPRequestBody {
    case empty
    case bytes([UInt8])
    /// `length` nil sends the body chunked.
    case stream(length: Int?, source: ByteSource)
}

struct HTTPRequest {
    var method: String
    /// Path and query, already percent-encoded, starting with "/".
    var target: String
    var headers: HTTPHeaders
    var body: HTTPRequestBody

    init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: HTTPRequestBody = .empty) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }
}

struct HTTPResponse: Sendable, Equatable {
    var status: Int
    var reason: String
    var headers: HTTPHeaders
    var body: [UInt8]

    init(status: Int, reason: String = "", headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What a client of an HTTP API needs: one request, one response, bounded in
/// time. `HTTPClient` is the implementation; API clients (Consul, Manta, S3)
/// depend only on this, so their tests can record requests instead.
/// `timeout` is the longest the peer may stay silent: for the connect and for
/// each read or write. A body of gigabytes keeps going as long as it moves.
protocol HTTPTransport: AnyObject {
    /// Sends the request to the transport's base address; the response body is buffered.
    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse
    /// Sends the request; a 2xx body streams into `sink`, any other status is
    /// buffered into the returned response so its error can be read.
    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse
}
