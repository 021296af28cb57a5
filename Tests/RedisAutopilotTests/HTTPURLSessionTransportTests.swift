import Foundation
import XCTest
@testable import RedisAutopilot

/// URLSessionTransport over http:// against the same real server as
/// HTTPClient: everything but TLS takes the same path as with https.
final class HTTPURLSessionTransportTests: XCTestCase {
    var server: HTTPTestServer!
    var transport: URLSessionTransport!

    override func setUpWithError() throws {
        server = try HTTPTestServer()
        transport = URLSessionTransport(baseURL: server.baseURL)
    }

    override func tearDown() {
        transport = nil
        server?.stop()
    }

    func elapsed(since start: Deadline) -> Double {
        Double(Deadline.now.nanoseconds - start.nanoseconds) / 1e9
    }

    func testFactoryPicksByScheme() throws {
        XCTAssertTrue(makeHTTPTransport(baseURL: try HTTPBaseURL(parsing: "127.0.0.1:8500")) is HTTPClient)
        XCTAssertTrue(makeHTTPTransport(baseURL: try HTTPBaseURL(parsing: "https://us-east.manta.joyent.com")) is URLSessionTransport)
    }

    func testRequestHeadersAndBufferedBody() throws {
        let request = HTTPRequest(method: "PUT", target: "/echo/obj?x=1", headers: HTTPHeaders([("X-Token", "t"), ("Content-Length", "999")]), body: .bytes(Array("value".utf8)))
        let response = try transport.send(request, timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        let echo = try HTTPEcho(response)
        XCTAssertEqual(echo.requestLine, "PUT /echo/obj?x=1 HTTP/1.1")
        XCTAssertEqual(echo.header("X-Token"), ["t"])
        XCTAssertEqual(echo.header("Content-Length"), ["5"])
        XCTAssertEqual(echo.header("Accept-Encoding"), ["identity"])
        XCTAssertEqual(echo.body, "value")
    }

    func testStreamedUploadWithLength() throws {
        let size = 50 * 1024 * 1024
        let source = HTTPPatternSource(total: size)
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let echo = try HTTPEcho(transport.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: size, source: source)), timeout: 10))
        XCTAssertEqual(echo.header("Content-Length"), [String(size)])
        XCTAssertEqual(echo.header("Transfer-Encoding"), [])
        XCTAssertEqual(echo.bodyLength, size)
        XCTAssertTrue(echo.patternOk)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 24 * 1024 * 1024, "a 50 MB upload must not be held in memory")
        }
    }

    func testStreamedUploadChunked() throws {
        let size = 50 * 1024 * 1024 + 17
        let source = HTTPPatternSource(total: size)
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let echo = try HTTPEcho(transport.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: nil, source: source)), timeout: 10))
        XCTAssertEqual(echo.header("Transfer-Encoding"), ["chunked"])
        XCTAssertEqual(echo.bodyLength, size)
        XCTAssertTrue(echo.patternOk)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 24 * 1024 * 1024)
        }
    }

    func testSourceShorterOrLongerThanDeclaredFails() {
        for (declared, actual) in [(100_000, 60_000), (100_000, 100_001)] {
            XCTAssertThrowsError(try transport.send(HTTPRequest(method: "PUT", target: "/echo", body: .stream(length: declared, source: HTTPPatternSource(total: actual))), timeout: 5)) { error in
                guard case .requestBodyLength(declared, _)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            }
        }
    }

    func testStreamedDownload() throws {
        let size = 50 * 1024 * 1024
        let sink = HTTPPatternSink()
        HTTPPeakMemory.reset()
        let before = HTTPPeakMemory.current
        let response = try transport.send(HTTPRequest(method: "GET", target: "/bytes/\(size)"), into: sink, timeout: 10)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, [])
        XCTAssertEqual(sink.received, size)
        XCTAssertTrue(sink.matches)
        XCTAssertGreaterThan(sink.writes, 100)
        if let before, let after = HTTPPeakMemory.current {
            XCTAssertLessThan(after - before, 40 * 1024 * 1024, "a 50 MB download with a fast sink must not be held whole")
        }
    }

    func testChunkedDownload() throws {
        let sink = HTTPPatternSink()
        _ = try transport.send(HTTPRequest(method: "GET", target: "/chunked/300000"), into: sink, timeout: 5)
        XCTAssertEqual(sink.received, 300000)
        XCTAssertTrue(sink.matches)
    }

    func testErrorStatusIsBufferedNotStreamed() throws {
        let sink = HTTPPatternSink()
        let response = try transport.send(HTTPRequest(method: "GET", target: "/status/403"), into: sink, timeout: 5)
        XCTAssertEqual(response.status, 403)
        XCTAssertEqual(response.bodyText, "status 403 body")
        XCTAssertEqual(response.headers["X-Status"], "403")
        XCTAssertEqual(sink.received, 0)
    }

    func testBufferedBodyOverTheLimitFails() {
        let small = URLSessionTransport(baseURL: server.baseURL, maxBufferedBodyBytes: 1000)
        XCTAssertThrowsError(try small.send(HTTPRequest(method: "GET", target: "/bytes/1001"), timeout: 5)) { error in
            guard case .bodyTooLarge(1000)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
        }
    }

    func testServerThatNeverAnswersTimesOut() {
        let start = Deadline.now
        XCTAssertThrowsError(try transport.send(HTTPRequest(method: "GET", target: "/hang"), timeout: 0.5)) { error in
            guard let error = error as? HTTPError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isTimeout, "\(error)")
            XCTAssertEqual(error.path, "/hang")
        }
        XCTAssertGreaterThanOrEqual(elapsed(since: start), 0.45)
        XCTAssertLessThan(elapsed(since: start), 2.5)
    }

    func testBodyThatStallsTimesOut() {
        let start = Deadline.now
        XCTAssertThrowsError(try transport.send(HTTPRequest(method: "GET", target: "/stall/100000"), into: HTTPPatternSink(), timeout: 0.5)) { error in
            XCTAssertTrue((error as? HTTPError)?.isTimeout == true, "\(error)")
        }
        XCTAssertLessThan(elapsed(since: start), 2.5)
    }

    func testTimeoutBoundsSilenceNotTheWholeTransfer() throws {
        let start = Deadline.now
        let response = try transport.send(HTTPRequest(method: "GET", target: "/trickle/6/0.25"), timeout: 1)
        XCTAssertEqual(response.body, HTTPTestPattern.bytes(offset: 0, count: 6))
        XCTAssertGreaterThan(elapsed(since: start), 1.2)
    }

    func testConnectionRefused() {
        server.stop()
        XCTAssertThrowsError(try transport.send(HTTPRequest(method: "GET", target: "/x?token=secret"), timeout: 2)) { error in
            guard let error = error as? HTTPError, case .network(.connect) = error.failure else { return XCTFail("\(error)") }
            XCTAssertFalse(error.description.contains("secret"))
        }
    }

    func testHeadResponseHasNoBody() throws {
        let response = try transport.send(HTTPRequest(method: "HEAD", target: "/bytes/1000"), timeout: 2)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Length"], "1000")
        XCTAssertEqual(response.body, [])
    }

    func testInvalidRequestsAreRejectedBeforeSending() {
        let requests = [
            HTTPRequest(method: "GET", target: "/", body: .bytes([1])),
            HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("X-Evil", "a\r\nInjected: 1")])),
            HTTPRequest(method: "GET", target: "relative"),
        ]
        for request in requests {
            XCTAssertThrowsError(try transport.send(request, timeout: 1)) { error in
                guard case .invalidRequest? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            }
        }
        XCTAssertThrowsError(try transport.send(HTTPRequest(method: "GET", target: "/"), timeout: .infinity)) { error in
            guard case .invalidRequest? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
        }
    }

    func testRedirectIsReturnedNotFollowed() throws {
        let response = try transport.send(HTTPRequest(method: "GET", target: "/status/302"), timeout: 5)
        XCTAssertEqual(response.status, 302)
    }

    func testUntrustedCertificateIsATLSError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        XCTAssertEqual(openssl.terminationStatus, 0)

        let tlsServer = try HTTPTestServer(certificate: certificate, key: key)
        defer { tlsServer.stop() }
        let https = URLSessionTransport(baseURL: HTTPBaseURL(scheme: .https, host: "127.0.0.1", port: tlsServer.port))
        XCTAssertThrowsError(try https.send(HTTPRequest(method: "GET", target: "/echo"), timeout: 5)) { error in
            guard case .tls(let message)? = (error as? HTTPError)?.failure else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("certificate"), message)
        }
    }
}
