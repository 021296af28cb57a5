import Foundation
import XCTest
@testable import RedisAutopilot

/// What the test server's /echo route saw.
struct HTTPEcho: Decodable {
    let method: String
    let target: String
    let requestLine: String
    let headers: [[String]]
    let bodyLength: Int
    let patternOk: Bool
    let body: String?

    init(_ response: HTTPResponse) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = try decoder.decode(HTTPEcho.self, from: Data(response.body))
    }

    func header(_ name: String) -> [String] {
        headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
    }
}

class HTTPClientTests: XCTestCase {
    var server: HTTPTestServer!
    var client: HTTPClient!

    /// `HTTPSClientTests` runs every test here again over TLS.
    class var usesTLS: Bool { false }
    var trust: TLSTrust = .system

    override func setUpWithError() throws {
        if Self.usesTLS {
            let certificates = try TestCertificates.shared.get()
            trust = .caFile(certificates.caFile)
            server = try HTTPTestServer(certificate: certificates.serverCertificate, key: certificates.serverKey)
        } else {
            server = try HTTPTestServer()
        }
        client = makeClient(server.baseURL)
    }

    func makeClient(_ baseURL: HTTPBaseURL, maxBufferedBodyBytes: Int = HTTPResponse.defaultMaxBufferedBodyBytes) -> HTTPClient {
        HTTPClient(baseURL: baseURL, trust: trust, maxBufferedBodyBytes: maxBufferedBodyBytes)
    }

    override func tearDown() {
        server?.stop()
    }

    func elapsed(since start: Deadline) -> Double {
        Double(Deadline.now.nanoseconds - start.nanoseconds) / 1e9
    }

    // MARK: requests

    func testRequestLineHostAndFramingHeaders() throws {
        var headers = HTTPHeaders([("X-Consul-Token", "t"), ("Content-Length", "999"), ("connection", "keep-alive")])
        headers.add("X-Multi", "a")
        headers.add("X-Multi", "b")
        let response = try client.send(HTTPRequest(method: "PUT", target: "/echo/key%20x?cas=0", headers: headers, body: .bytes(Array("value".utf8))), timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "application/json")
        let echo = try HTTPEcho(response)
        XCTAssertEqual(echo.requestLine, "PUT /echo/key%20x?cas=0 HTTP/1.1")
        XCTAssertEqual(echo.header("Host"), ["127.0.0.1:\(server.port)"])
        XCTAssertEqual(echo.header("Content-Length"), ["5"], "the body decides the length, not a stale header")
        XCTAssertEqual(echo.header("Connection"), ["close"])
        XCTAssertEqual(echo.header("X-Multi"), ["a", "b"])
        XCTAssertEqual(echo.header("X-Consul-Token"), ["t"])
        XCTAssertEqual(echo.body, "value")
    }

    func testEmptyBodiesAndPathPrefix() throws {
        let prefixed = makeClient(HTTPBaseURL(scheme: server.scheme, host: "127.0.0.1", port: server.port, pathPrefix: "/echo"))
        let get = try HTTPEcho(prefixed.send(HTTPRequest(method: "GET", target: "/v1/kv/a"), timeout: 5))
        XCTAssertEqual(get.target, "/echo/v1/kv/a")
        XCTAssertEqual(get.header("Content-Length"), [])
        let put = try HTTPEcho(prefixed.send(HTTPRequest(method: "PUT", target: "/x"), timeout: 5))
        XCTAssertEqual(put.header("Content-Length"), ["0"])
        XCTAssertEqual(put.bodyLength, 0)
    }

    func testCallerHostHeaderIsKept() throws {
        let echo = try HTTPEcho(client.send(HTTPRequest(method: "GET", target: "/echo", headers: HTTPHeaders([("Host", "bucket.s3.local")])), timeout: 5))
        XCTAssertEqual(echo.header("Host"), ["bucket.s3.local"])
    }

    func testStreamedUploadWithLength() throws {
        let size = 50 * 1024 * 1024
        let source = HTTPPatternSource(total: size)
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let echo = try HTTPEcho(client.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: size, source: source)), timeout: 10))
        XCTAssertEqual(echo.header("Content-Length"), [String(size)])
        XCTAssertEqual(echo.header("Transfer-Encoding"), [])
        XCTAssertEqual(echo.bodyLength, size)
        XCTAssertTrue(echo.patternOk)
        XCTAssertLessThanOrEqual(source.largestRequest, HTTPClient.bodyPieceSize)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 24 * 1024 * 1024, "a 50 MB upload must not be held in memory")
        }
    }

    func testStreamedUploadChunked() throws {
        let size = 50 * 1024 * 1024 + 17
        let source = HTTPPatternSource(total: size)
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let echo = try HTTPEcho(client.send(HTTPRequest(method: "POST", target: "/echo", body: .stream(length: nil, source: source)), timeout: 10))
        XCTAssertEqual(echo.header("Transfer-Encoding"), ["chunked"])
        XCTAssertEqual(echo.header("Content-Length"), [])
        XCTAssertEqual(echo.bodyLength, size)
        XCTAssertTrue(echo.patternOk)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 24 * 1024 * 1024)
        }
    }

    func testEmptyChunkedUpload() throws {
        let echo = try HTTPEcho(client.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: nil, source: HTTPPatternSource(total: 0))), timeout: 5))
        XCTAssertEqual(echo.bodyLength, 0)
    }

    func testSourceShorterOrLongerThanDeclaredFails() {
        for (declared, actual) in [(100, 60), (100, 101)] {
            XCTAssertThrowsError(try client.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: declared, source: HTTPPatternSource(total: actual))), timeout: 5)) { error in
                guard case .requestBodyLength(declared, actual)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            }
        }
    }

    func testFailingSourceIsReportedAsSuch() {
        final class Broken: ByteSource {
            struct Failure: Error {}
            func read(maxBytes: Int) throws -> [UInt8] { throw Failure() }
        }
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: nil, source: Broken())), timeout: 5)) { error in
            guard case .requestBodyFailed(let cause)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            XCTAssertTrue(cause is Broken.Failure)
        }
    }

    func testServerRefusingAnUploadEarlyIsReadAsItsResponse() throws {
        let response = try client.send(HTTPRequest(method: "PUT", target: "/reject", body: .stream(length: 50 * 1024 * 1024, source: HTTPPatternSource(total: 50 * 1024 * 1024))), timeout: 5)
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.bodyText, "too large")
    }

    // MARK: responses

    func testStreamedDownloadWithContentLength() throws {
        let size = 50 * 1024 * 1024
        let sink = HTTPPatternSink()
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let response = try client.send(HTTPRequest(method: "GET", target: "/bytes/\(size)"), into: sink, timeout: 10)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, [], "a streamed body is not also buffered")
        XCTAssertEqual(sink.received, size)
        XCTAssertTrue(sink.matches)
        XCTAssertGreaterThan(sink.writes, 100, "delivered in pieces")
        XCTAssertLessThanOrEqual(sink.largestWrite, HTTPClient.bodyPieceSize)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 24 * 1024 * 1024, "a 50 MB download must not be held in memory")
        }
    }

    /// A restore writes to disk slower than a fast network delivers: the
    /// client reads only as fast as the sink takes, so nothing piles up.
    func testSlowSinkHoldsTheDownloadBack() throws {
        final class SlowSink: ByteSink {
            let checked = HTTPPatternSink()
            func write(_ bytes: [UInt8]) throws {
                usleep(2_000)
                try checked.write(bytes)
            }
        }
        let size = 16 * 1024 * 1024
        let sink = SlowSink()
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let response = try client.send(HTTPRequest(method: "GET", target: "/bytes/\(size)"), into: sink, timeout: 10)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(sink.checked.received, size)
        XCTAssertTrue(sink.checked.matches)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 8 * 1024 * 1024, "received data must wait in the kernel, not in memory")
        }
    }

    func testStreamedDownloadChunkedWithTrailer() throws {
        let size = 3 * 1024 * 1024 + 5
        let sink = HTTPPatternSink()
        let response = try client.send(HTTPRequest(method: "GET", target: "/chunked/\(size)?trailer"), into: sink, timeout: 10)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(sink.received, size)
        XCTAssertTrue(sink.matches)
    }

    func testBufferedResponses() throws {
        let fixed = try client.send(HTTPRequest(method: "GET", target: "/bytes/100000"), timeout: 5)
        XCTAssertEqual(fixed.body, HTTPTestPattern.bytes(offset: 0, count: 100000))
        let chunked = try client.send(HTTPRequest(method: "GET", target: "/chunked/70000"), timeout: 5)
        XCTAssertEqual(chunked.body, HTTPTestPattern.bytes(offset: 0, count: 70000))
        let untilClose = try client.send(HTTPRequest(method: "GET", target: "/close/5000"), timeout: 5)
        XCTAssertEqual(untilClose.body, HTTPTestPattern.bytes(offset: 0, count: 5000))
    }

    func testHeadResponseHasNoBody() throws {
        let response = try client.send(HTTPRequest(method: "HEAD", target: "/bytes/1000"), timeout: 2)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Length"], "1000")
        XCTAssertEqual(response.body, [])
    }

    func testErrorStatusIsBufferedNotStreamed() throws {
        let sink = HTTPPatternSink()
        let response = try client.send(HTTPRequest(method: "GET", target: "/status/404"), into: sink, timeout: 5)
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.bodyText, "status 404 body")
        XCTAssertEqual(response.headers["X-Status"], "404")
        XCTAssertEqual(sink.received, 0)
    }

    func testBufferedBodyOverTheLimitFails() {
        let small = makeClient(server.baseURL, maxBufferedBodyBytes: 1000)
        XCTAssertThrowsError(try small.send(HTTPRequest(method: "GET", target: "/bytes/1001"), timeout: 5)) { error in
            guard case .bodyTooLarge(1000)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try small.send(HTTPRequest(method: "GET", target: "/bytes/1001"), into: HTTPPatternSink(), timeout: 5))
    }

    func testFailingSinkIsReportedAsSuch() {
        final class Full: ByteSink {
            struct Failure: Error {}
            func write(_ bytes: [UInt8]) throws { throw Failure() }
        }
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", target: "/bytes/10"), into: Full(), timeout: 5)) { error in
            guard case .responseSinkFailed(let cause)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            XCTAssertTrue(cause is Full.Failure)
        }
    }

    func testNotHTTPIsAMalformedResponse() {
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", target: "/garbage"), timeout: 5)) { error in
            guard case .malformedResponse(.invalidStatusLine)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
        }
    }

    // MARK: timeouts and failures

    func testServerThatNeverAnswersTimesOut() {
        let start = Deadline.now
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", target: "/hang"), timeout: 0.5)) { error in
            guard let error = error as? HTTPError, case .network(.timeout(_, "read")) = error.failure else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isTimeout)
            XCTAssertEqual(error.method, "GET")
            XCTAssertEqual(error.path, "/hang")
            XCTAssertEqual(error.host, "127.0.0.1:\(self.server.port)")
        }
        XCTAssertGreaterThanOrEqual(elapsed(since: start), 0.45)
        XCTAssertLessThan(elapsed(since: start), 2.0)
    }

    func testBodyThatStallsTimesOut() {
        let start = Deadline.now
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", target: "/stall/100000"), into: HTTPPatternSink(), timeout: 0.5)) { error in
            XCTAssertTrue((error as? HTTPError)?.isTimeout == true, "\(error)")
        }
        XCTAssertLessThan(elapsed(since: start), 2.0)
    }

    func testTimeoutBoundsSilenceNotTheWholeTransfer() throws {
        let start = Deadline.now
        let response = try client.send(HTTPRequest(method: "GET", target: "/trickle/6/0.25"), timeout: 1)
        XCTAssertEqual(response.body, HTTPTestPattern.bytes(offset: 0, count: 6))
        XCTAssertGreaterThan(elapsed(since: start), 1.2, "took longer than the timeout, yet never silent that long")
    }

    func testConnectionRefusedCarriesContext() {
        server.stop()
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "DELETE", target: "/v1/session/destroy/x?token=secret"), timeout: 2)) { error in
            guard let error = error as? HTTPError, case .network(.connect) = error.failure else { return XCTFail("\(error)") }
            XCTAssertEqual(error.path, "/v1/session/destroy/x")
            XCTAssertTrue(error.description.hasPrefix("DELETE 127.0.0.1:\(self.server.port)/v1/session/destroy/x failed: cannot connect"), error.description)
            XCTAssertFalse(error.description.contains("secret"))
        }
    }

    func testInvalidRequestsAreRejectedBeforeConnecting() {
        let offline = HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 1))
        let requests = [
            HTTPRequest(method: "GET", target: "no-slash"),
            HTTPRequest(method: "GET", target: "/a b"),
            HTTPRequest(method: "GET", target: "/\r\nX: y"),
            HTTPRequest(method: "GET", target: "/é"),
            HTTPRequest(method: "G T", target: "/"),
            HTTPRequest(method: "", target: "/"),
            HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("X-Evil", "a\r\nInjected: 1")])),
            HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("Bad Name", "v")])),
            HTTPRequest(method: "PUT", target: "/", body: .stream(length: -1, source: HTTPPatternSource(total: 0))),
        ]
        for request in requests {
            XCTAssertThrowsError(try offline.send(request, timeout: 1)) { error in
                guard case .invalidRequest? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            }
        }
        for timeout in [0, -1, .nan, .infinity, 1e300] {
            XCTAssertThrowsError(try offline.send(HTTPRequest(method: "GET", target: "/"), timeout: timeout)) { error in
                guard case .invalidRequest? = (error as? HTTPError)?.failure else { return XCTFail("\(timeout): \(error)") }
            }
        }
    }
}

/// Every HTTPClient test again over https, against the same server wrapped in
/// TLS with a certificate from the test CA.
final class HTTPSClientTests: HTTPClientTests {
    override class var usesTLS: Bool { true }

    /// Issue 12, finding 6: an end of stream without close_notify was taken
    /// as the clean end of a body delimited by the close.
    func testABodyCutWithoutCloseNotifyIsAnError() throws {
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", target: "/cut/5000"), timeout: 5)) { error in
            guard case .tls(.truncated)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
        }
        let sink = HTTPPatternSink()
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", target: "/cut/70000"), into: sink, timeout: 5))
        // A body with its own framing is complete before the close, whatever follows.
        XCTAssertEqual(try client.send(HTTPRequest(method: "GET", target: "/bytes/1000"), timeout: 5).body.count, 1000)
    }

    func testTheServerReallySpeaksTLS() {
        XCTAssertEqual(client.baseURL.scheme, .https)
        let plain = HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: server.port))
        XCTAssertThrowsError(try plain.send(HTTPRequest(method: "GET", target: "/echo"), timeout: 2))
    }
}
