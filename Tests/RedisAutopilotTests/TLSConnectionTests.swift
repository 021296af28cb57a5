import Foundation
import XCTest
@testable import RedisAutopilot

/// How https fails: every refusal is a typed error that names the server and
/// why, and no wait outlasts the caller's timeout. (Everything that works is
/// covered by HTTPSClientTests, which runs all of HTTPClient's tests over TLS.)
final class TLSConnectionTests: XCTestCase {
    private var certificates: TestCertificates!
    private var servers: [HTTPTestServer] = []

    override func setUpWithError() throws {
        certificates = try TestCertificates.shared.get()
    }

    override func tearDown() {
        servers.forEach { $0.stop() }
        servers = []
    }

    private func server(certificate: String, key: String) throws -> HTTPTestServer {
        let server = try HTTPTestServer(certificate: certificate, key: key)
        servers.append(server)
        return server
    }

    private func failure(_ client: HTTPClient, timeout: Double = 5, file: StaticString = #filePath, line: UInt = #line) -> HTTPError? {
        do {
            let response = try client.send(HTTPRequest(method: "GET", target: "/echo?token=secret"), timeout: timeout)
            XCTFail("expected a failure, got status \(response.status)", file: file, line: line)
            return nil
        } catch let error as HTTPError {
            XCTAssertFalse(error.description.contains("secret"), error.description, file: file, line: line)
            return error
        } catch {
            XCTFail("not an HTTPError: \(error)", file: file, line: line)
            return nil
        }
    }

    func testCertificateFromAnUntrustedIssuerIsRejected() throws {
        let server = try server(certificate: certificates.selfSignedCertificate, key: certificates.selfSignedKey)
        let error = failure(HTTPClient(baseURL: server.baseURL, trust: .caFile(certificates.caFile)))
        guard case let .tls(.certificateRejected(endpoint, serverName, reason))? = error?.failure else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(endpoint, .tcp(host: "127.0.0.1", port: server.port))
        XCTAssertEqual(serverName, "127.0.0.1")
        XCTAssertTrue(reason.contains("self-signed") || reason.contains("issuer"), reason)
    }

    func testSystemTrustDoesNotKnowThePrivateCA() throws {
        let server = try server(certificate: certificates.serverCertificate, key: certificates.serverKey)
        let error = failure(HTTPClient(baseURL: server.baseURL, trust: .system))
        guard case .tls(.certificateRejected)? = error?.failure else { return XCTFail("\(String(describing: error))") }
    }

    func testCertificateForAnotherNameIsRejected() throws {
        let server = try server(certificate: certificates.serverCertificate, key: certificates.serverKey)
        let byName = HTTPBaseURL(scheme: .https, host: "localhost", port: server.port)
        let error = failure(HTTPClient(baseURL: byName, trust: .caFile(certificates.caFile)))
        guard case let .tls(.certificateRejected(_, serverName, reason))? = error?.failure else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(serverName, "localhost")
        XCTAssertTrue(reason.contains("mismatch"), reason)
    }

    func testPlainHTTPServerIsAHandshakeFailureNotACrash() throws {
        let plain = try HTTPTestServer()
        servers.append(plain)
        let https = HTTPBaseURL(scheme: .https, host: "127.0.0.1", port: plain.port)
        let error = failure(HTTPClient(baseURL: https, trust: .caFile(certificates.caFile)))
        guard case .tls(.handshake)? = error?.failure else { return XCTFail("\(String(describing: error))") }
    }

    func testServerSilentDuringTheHandshakeTimesOut() throws {
        let listener = try LoopbackListener()
        let https = HTTPBaseURL(scheme: .https, host: "127.0.0.1", port: listener.port)
        let start = Deadline.now
        let error = failure(HTTPClient(baseURL: https, trust: .caFile(certificates.caFile)), timeout: 0.5)
        let elapsed = Double(Deadline.now.nanoseconds - start.nanoseconds) / 1e9
        XCTAssertTrue(error?.isTimeout == true, "\(String(describing: error))")
        XCTAssertGreaterThanOrEqual(elapsed, 0.45)
        XCTAssertLessThan(elapsed, 2)
    }

    func testUnreadableCAFileIsATrustSetupError() throws {
        let server = try server(certificate: certificates.serverCertificate, key: certificates.serverKey)
        for file in ["/nonexistent/ca.pem", certificates.serverKey] {
            let error = failure(HTTPClient(baseURL: server.baseURL, trust: .caFile(file)))
            guard case let .tls(.trustSetup(reason))? = error?.failure else { return XCTFail("\(file): \(String(describing: error))") }
            XCTAssertTrue(reason.contains(file), reason)
        }
    }

    func testMissingOrForeignLibraryIsATypedError() {
        XCTAssertThrowsError(try OpenSSLLibrary(soname: "libssl-absent.so.99")) { error in
            guard case let .libraryUnavailable(reason)? = error as? TLSError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix("libssl-absent.so.99 (OpenSSL 3) could not be loaded"), reason)
        }
        XCTAssertThrowsError(try OpenSSLLibrary(soname: "libz.so.1")) { error in
            XCTAssertEqual(error as? TLSError, .libraryUnavailable("libz.so.1 has no TLS_client_method; OpenSSL 3 is required"))
        }
        XCTAssertNoThrow(try OpenSSLLibrary.shared.get())
    }

    func testPlainHTTPNeverLoadsTheTLSContext() throws {
        let plain = try HTTPTestServer()
        servers.append(plain)
        let client = HTTPClient(baseURL: plain.baseURL, trust: .caFile("/nonexistent/ca.pem"))
        XCTAssertEqual(try client.send(HTTPRequest(method: "GET", target: "/status/204"), timeout: 5).status, 204)
    }
}
