import Foundation

/// One signed S3 request: the operation's name for errors, the object key
/// (nil for the bucket itself), an unencoded query, extra headers and a body
/// held in memory (at most one part).
struct S3Request {
    var operation: String
    var method: String
    var key: String?
    var query: [(String, String)] = []
    var headers = HTTPHeaders()
    var body: [UInt8] = []
    /// Adds `Content-MD5`: servers that check it reject a body damaged on the way.
    var sendsContentMD5 = false
}

/// Sends S3 requests for one bucket: encodes the path and query, hashes the
/// body, signs, and turns every non-2xx answer into an `S3Error`.
///
/// What the AWS SDKs retry is retried by `retry` (500, 502, 503 `SlowDown`,
/// 504, 400 `RequestTimeout`, a failed connection), for idempotent requests
/// only: GET, HEAD, PUT (a whole object or one part, its body held in
/// memory) and DELETE, never a POST (starting or completing a multipart
/// upload). A GET is retried only if none of its body reached the sink.
final class S3Client {
    let address: S3BucketAddress
    private let signer: SigV4Signer
    private let transport: HTTPTransport
    private let timeout: Double
    var retry: RetryPolicy = .standard
    static let retriedStatuses: Set<Int> = [500, 502, 503, 504]
    static let retriedCodes: Set<String> = ["RequestTimeout"]

    init(address: S3BucketAddress, signer: SigV4Signer, transport: HTTPTransport, timeout: Double) {
        self.address = address
        self.signer = signer
        self.transport = transport
        self.timeout = timeout
    }

    /// The response of a 2xx answer, its body buffered.
    func send(_ request: S3Request) throws -> HTTPResponse {
        try retrying(request) { try exchange(request, sink: nil) }
    }

    /// Streams a 2xx answer's body into `sink`; the returned response has no body.
    func send(_ request: S3Request, into sink: ByteSink) throws -> HTTPResponse {
        try retrying(request) {
            let received = ObservedByteSink(sink)
            do {
                return try exchange(request, sink: received)
            } catch let failure as TransientFailure where received.byteCount > 0 {
                throw failure.underlying
            }
        }
    }

    private func retrying(_ request: S3Request, _ attempt: () throws -> HTTPResponse) throws -> HTTPResponse {
        let idempotent = request.method.uppercased() != "POST"
        var policy = retry
        if !idempotent { policy.maxAttempts = 1 }
        return try policy.run("S3 \(request.operation)\(request.key.map { " of \($0)" } ?? "")") {
            let response = try attempt()
            do {
                try check(response, of: request)
            } catch let error as S3Error where Self.retriedStatuses.contains(error.httpStatus ?? 0)
                || Self.retriedCodes.contains(error.code ?? "") {
                throw TransientFailure(error, retryAfter: RetryAfter.seconds(response.headers["Retry-After"]))
            }
            return response
        }
    }

    /// The HTTP request as it goes out: exposed so tests can check that what
    /// is signed is what is sent.
    func prepare(_ request: S3Request) -> HTTPRequest {
        // Hashed here, from the very bytes sent: the header can never
        // describe a different body.
        let payloadHash = SHA256.hexDigest(request.body)
        var headers = request.headers
        headers.set("Host", address.baseURL.hostHeader)
        headers.set("x-amz-content-sha256", payloadHash)
        if request.sendsContentMD5 {
            headers.set("Content-MD5", Data(MD5.digest(request.body)).base64EncodedString())
        }
        let method = request.method.uppercased()
        if (method == "PUT" || method == "POST") && headers["Content-Type"] == nil {
            headers.set("Content-Type", "application/octet-stream")
        }
        signer.sign(method: method, encodedPath: address.canonicalPath(forKey: request.key), query: request.query,
                    headers: &headers, payloadHash: payloadHash)
        let query = SigV4Signer.canonicalQuery(request.query)
        let target = address.path(forKey: request.key) + (query.isEmpty ? "" : "?" + query)
        return HTTPRequest(method: method, target: target, headers: headers,
                           body: request.body.isEmpty ? .empty : .bytes(request.body))
    }

    private func exchange(_ request: S3Request, sink: ByteSink?) throws -> HTTPResponse {
        let prepared = prepare(request)
        do {
            if let sink {
                return try transport.send(prepared, into: sink, timeout: timeout)
            }
            return try transport.send(prepared, timeout: timeout)
        } catch {
            let failure = S3Error.transport(operation: request.operation, key: request.key, cause: error)
            if let http = error as? HTTPError, TransientFailure.isTransient(http) { throw TransientFailure(failure) }
            throw failure
        }
    }

    private func check(_ response: HTTPResponse, of request: S3Request) throws {
        guard !(200...299).contains(response.status) else { return }
        if !response.body.isEmpty, let element = try? S3XMLElement.parse(response.body),
           let details = try? S3ErrorDetails(element: element) {
            throw S3Error.service(operation: request.operation, key: request.key, status: response.status, details: details)
        }
        throw S3Error.status(operation: request.operation, key: request.key, status: response.status,
                             reason: response.reason, requestID: response.headers["x-amz-request-id"])
    }

    /// Parses a 2xx answer's XML body, or says which operation answered garbage.
    func parse<T>(_ response: HTTPResponse, of request: S3Request, as read: (S3XMLElement) throws -> T) throws -> T {
        do {
            return try read(S3XMLElement.parse(response.body))
        } catch {
            throw S3Error.malformedResponse(operation: request.operation, key: request.key, reason: "\(error)")
        }
    }
}
