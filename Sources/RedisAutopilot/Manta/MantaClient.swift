/// Manta's storage API over an `HTTPTransport`: every request signed, every
/// refusal read into a `MantaError`. Transport failures come out as the
/// transport's `HTTPError`.
///
/// Every request Manta serves is idempotent (a PUT names its object), so each
/// is retried by `retry` when Manta answers 500, 502, 503 or 504 (a
/// `Retry-After`, as with 503 `SharksExhaustedError`, is honoured) or the
/// connection fails; a PUT's body comes again from its start, a GET is
/// retried only if none of its body reached the sink.
final class MantaClient {
    /// The most entries ListDirectory gives in one page.
    static let maximumPageSize = 1024
    static let directoryContentType = "application/x-json-stream; type=directory"

    let transport: HTTPTransport
    let signer: MantaRequestSigner
    let timeout: Double
    var retry: RetryPolicy = .standard
    static let retriedStatuses: Set<Int> = [500, 502, 503, 504]

    init(transport: HTTPTransport, signer: MantaRequestSigner, timeout: Double) {
        self.transport = transport
        self.signer = signer
        self.timeout = timeout
    }

    /// Creates the directory; an existing one is left as it is (Manta answers 204 either way).
    func putDirectory(_ path: MantaPath) throws {
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/json; type=directory")
        _ = try send("PUT", path, headers: headers, expecting: 204)
    }

    /// Streams the body `open` gives, a fresh one per attempt; Content-Length
    /// when `length` is known, else chunked with `Max-Content-Length`, for which
    /// Manta reserves room on its storage nodes (5 GiB when absent).
    /// Returns Manta's `Computed-MD5`: base64 of the MD5 of what it stored.
    func putObject(_ path: MantaPath, length: Int?, maximumLength: Int?, contentType: String,
                   open: () throws -> ByteSource) throws -> String {
        var headers = HTTPHeaders()
        headers.set("Content-Type", contentType)
        if length == nil, let maximumLength {
            headers.set("Max-Content-Length", String(maximumLength))
        }
        let response = try send("PUT", path, headers: headers, body: { .stream(length: length, source: try open()) }, expecting: 204)
        guard let computed = response.headers["Computed-MD5"] else {
            throw MantaError.missingHeader(method: "PUT", path: path.description, header: "Computed-MD5")
        }
        return computed
    }

    /// Streams the object into `sink`; returns its `Content-MD5` (base64).
    func getObject(_ path: MantaPath, into sink: ByteSink) throws -> String {
        let response = try send("GET", path, sink: sink, expecting: 200)
        guard let md5 = response.headers["Content-MD5"] else {
            throw MantaError.missingHeader(method: "GET", path: path.description, header: "Content-MD5")
        }
        return md5
    }

    /// One page of the directory, sorted by name, starting at `marker`
    /// included (Manta's paging is inclusive). The Accept header makes Manta
    /// answer 406 for an object at `path` instead of sending its bytes.
    func listDirectory(_ path: MantaPath, marker: String?, limit: Int) throws -> [MantaDirectoryEntry] {
        var query = "?limit=\(limit)"
        if let marker { query += "&marker=" + PercentEncoding.encode(marker) }
        var headers = HTTPHeaders()
        headers.set("Accept", Self.directoryContentType)
        let response: HTTPResponse
        do {
            response = try send("GET", path, query: query, headers: headers, expecting: 200)
        } catch let MantaError.refused(_, _, 406, code, message) {
            throw MantaError.notADirectory(path: path.description, found: "Manta answered 406 \(code ?? ""): \(message)")
        }
        let type = response.headers["Content-Type"] ?? "none"
        guard type.contains("type=directory") else {
            throw MantaError.notADirectory(path: path.description, found: "content type \(type)")
        }
        return try MantaDirectoryListing.parse(response.body, path: path)
    }

    func delete(_ path: MantaPath) throws {
        _ = try send("DELETE", path, expecting: 204)
    }

    private func send(_ method: String, _ path: MantaPath, query: String = "", headers: HTTPHeaders = HTTPHeaders(),
                      body: () throws -> HTTPRequestBody = { .empty }, sink: ByteSink? = nil,
                      expecting status: Int) throws -> HTTPResponse {
        try retry.run("Manta \(method) \(path)") {
            // Signed per attempt: the Date header must be fresh.
            var headers = headers
            try signer.sign(&headers)
            let request = HTTPRequest(method: method, target: path.encoded + query, headers: headers, body: try body())
            let received = sink.map { ObservedByteSink($0) }
            let response: HTTPResponse
            do {
                response = if let received {
                    try transport.send(request, into: received, timeout: timeout)
                } else {
                    try transport.send(request, timeout: timeout)
                }
            } catch let error as HTTPError where TransientFailure.isTransient(error) && (received?.byteCount ?? 0) == 0 {
                throw TransientFailure(error)
            }
            guard response.status == status else {
                let refusal = MantaError.refusal(response, method: method, path: path)
                guard Self.retriedStatuses.contains(response.status) else { throw refusal }
                throw TransientFailure(refusal, retryAfter: RetryAfter.seconds(response.headers["Retry-After"]))
            }
            return response
        }
    }
}
