/// Manta's storage API over an `HTTPTransport`: every request signed, every
/// refusal read into a `MantaError`. Transport failures come out as the
/// transport's `HTTPError`.
final class MantaClient {
    /// The most entries ListDirectory gives in one page.
    static let maximumPageSize = 1024
    static let directoryContentType = "application/x-json-stream; type=directory"

    let transport: HTTPTransport
    let signer: MantaRequestSigner
    let timeout: Double

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

    /// Streams the body; Content-Length when `length` is known, else chunked.
    /// Returns Manta's `Computed-MD5`: base64 of the MD5 of what it stored.
    func putObject(_ path: MantaPath, from source: ByteSource, length: Int?, contentType: String) throws -> String {
        var headers = HTTPHeaders()
        headers.set("Content-Type", contentType)
        let response = try send("PUT", path, headers: headers, body: .stream(length: length, source: source), expecting: 204)
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
                      body: HTTPRequestBody = .empty, sink: ByteSink? = nil, expecting status: Int) throws -> HTTPResponse {
        var headers = headers
        try signer.sign(&headers)
        let request = HTTPRequest(method: method, target: path.encoded + query, headers: headers, body: body)
        let response = if let sink {
            try transport.send(request, into: sink, timeout: timeout)
        } else {
            try transport.send(request, timeout: timeout)
        }
        guard response.status == status else { throw MantaError.refusal(response, method: method, path: path) }
        return response
    }
}
