import Foundation
import XCTest
@testable import RedisAutopilot

/// An `HTTPTransport` that records every request and answers from a script,
/// so each test can check exactly what the client put on the wire.
final class ConsulRecordingTransport: HTTPTransport {
    struct Recorded {
        let method: String
        let target: String
        let headers: HTTPHeaders
        /// nil for `.empty`; streams are never used by the Consul client.
        let body: [UInt8]?
        let timeout: Double
    }

    private(set) var requests: [Recorded] = []
    private var answers: [Result<HTTPResponse, any Error>] = []

    /// The requests recorded since the last call, which forgets them.
    func takeRequests() -> [Recorded] {
        defer { requests = [] }
        return requests
    }

    func answer(_ response: HTTPResponse) {
        answers.append(.success(response))
    }

    func fail(with error: any Error) {
        answers.append(.failure(error))
    }

    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        let body: [UInt8]?
        switch request.body {
        case .empty: body = nil
        case .bytes(let bytes): body = bytes
        case .stream: body = Array("<stream>".utf8)
        }
        requests.append(Recorded(
            method: request.method, target: request.target, headers: request.headers, body: body, timeout: timeout))
        guard !answers.isEmpty else {
            throw NetError.closedByPeer(endpoint: .tcp(host: "fake-consul", port: 8500))
        }
        return try answers.removeFirst().get()
    }

    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        var response = try send(request, timeout: timeout)
        if (200..<300).contains(response.status) {
            try sink.write(response.body)
            response.body = []
        }
        return response
    }
}

/// Builds answers the way Consul sends them.
enum ConsulAnswer {
    static func json(_ text: String, status: Int = 200, index: UInt64? = nil) -> HTTPResponse {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if let index {
            headers.add("X-Consul-Index", String(index))
            headers.add("X-Consul-Knownleader", "true")
            headers.add("X-Consul-Lastcontact", "0")
        }
        return HTTPResponse(status: status, reason: status == 200 ? "OK" : "", headers: headers, body: Array(text.utf8))
    }

    static func text(_ text: String, status: Int) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), body: Array(text.utf8))
    }

    /// What the agent answers to a write that returns nothing.
    static let empty = HTTPResponse(status: 200, reason: "OK")
}

/// Shared set-up and request checks for the Consul client tests.
class ConsulClientTestCase: XCTestCase {
    static let token = "8f2b3c1e-5d41-4a7c-9e7d-0a1b2c3d4e5f"
    var transport = ConsulRecordingTransport()
    var client: ConsulClient!

    override func setUp() {
        super.setUp()
        transport = ConsulRecordingTransport()
        client = ConsulClient(transport: transport, token: Self.token, timeout: 3)
    }

    /// Checks that exactly one request was sent since the last check: its
    /// method, target, token header, body, and timeout.
    func assertSent(
        _ method: String, _ target: String, json: String? = nil, timeout: Double = 3,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let requests = transport.takeRequests()
        XCTAssertEqual(requests.count, 1, "requests sent", file: file, line: line)
        guard let request = requests.last else { return }
        XCTAssertEqual(request.method, method, file: file, line: line)
        XCTAssertEqual(request.target, target, file: file, line: line)
        XCTAssertEqual(request.headers.values("X-Consul-Token"), [Self.token], file: file, line: line)
        XCTAssertFalse(request.target.contains(Self.token), file: file, line: line)
        if let json {
            XCTAssertEqual(request.headers["Content-Type"], "application/json", file: file, line: line)
            assertJSON(request.body, equals: json, file: file, line: line)
        } else if method == "PUT" {
            XCTAssertEqual(request.body, [], "a PUT without content sends an empty body", file: file, line: line)
        } else {
            XCTAssertNil(request.body, file: file, line: line)
        }
        XCTAssertEqual(request.timeout, timeout, accuracy: 0.001, file: file, line: line)
    }

    func assertJSON(_ bytes: [UInt8]?, equals expected: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let bytes,
              let actual = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? NSObject
        else {
            return XCTFail("body is not JSON: \(bytes.map { String(decoding: $0, as: UTF8.self) } ?? "none")", file: file, line: line)
        }
        guard let wanted = try? JSONSerialization.jsonObject(with: Data(expected.utf8), options: [.fragmentsAllowed]) as? NSObject else {
            return XCTFail("expected text is not JSON", file: file, line: line)
        }
        XCTAssertEqual(actual, wanted, "sent \(String(decoding: bytes, as: UTF8.self))", file: file, line: line)
    }

    /// Runs `call` and hands its `ConsulError` to `check`; fails on success or another error type.
    func assertConsulError<T>(
        _ call: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
        _ check: (ConsulError) -> Void
    ) {
        XCTAssertThrowsError(try call(), file: file, line: line) { error in
            guard let consulError = error as? ConsulError else {
                return XCTFail("not a ConsulError: \(error)", file: file, line: line)
            }
            XCTAssertFalse("\(consulError)".contains(Self.token), "the token leaked into \(consulError)", file: file, line: line)
            check(consulError)
        }
    }
}

final class ConsulClientTests: ConsulClientTestCase {
    func testLeaderIsTheRaftAddress() throws {
        transport.answer(ConsulAnswer.json(#""10.1.10.12:8300""#))
        XCTAssertEqual(try client.leader(), "10.1.10.12:8300")
        assertSent("GET", "/v1/status/leader")
    }

    func testNoLeaderIsNil() throws {
        transport.answer(ConsulAnswer.json(#""""#))
        XCTAssertNil(try client.leader())
        transport.answer(ConsulAnswer.json(""))
        XCTAssertNil(try client.leader())
        transport.answer(ConsulAnswer.json("\n"))
        XCTAssertNil(try client.leader())
    }

    func testLeaderThatIsNotAJSONStringIsADecodeError() {
        transport.answer(ConsulAnswer.json("10.1.10.12:8300"))
        assertConsulError(try client.leader()) { error in
            guard case .decode(let path, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/v1/status/leader")
            XCTAssertTrue(message.contains("10.1.10.12:8300"), message)
        }
    }

    func testMalformedJSONIsADecodeErrorNotACrash() {
        for body in ["{\"x\": ", "<html>502 Bad Gateway</html>", "[]", "\u{0}\u{1}"] {
            transport.answer(ConsulAnswer.json(body))
            assertConsulError(try client.agentServices()) { error in
                guard case .decode("/v1/agent/services", _) = error else { return XCTFail("\(body): \(error)") }
            }
        }
    }

    func testForbiddenReadsAsAnACLProblemWithoutTheToken() {
        transport.answer(ConsulAnswer.text(
            "Permission denied: token with AccessorID 'e8aeb69a-0ace-42b9-b95f-d1d9eafe1561' lacks permission 'key:write' on \"service/redis/locks/master\"",
            status: 403))
        assertConsulError(try client.putKV("service/redis/locks/master", value: Array("x".utf8))) { error in
            guard case .http("PUT", "/v1/kv/service/redis/locks/master", 403, let body) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(body.hasPrefix("Permission denied"), body)
            let text = "\(error)"
            XCTAssertTrue(text.contains("ACL token"), text)
            XCTAssertTrue(text.contains("CONSUL_HTTP_TOKEN"), text)
            XCTAssertTrue(text.contains("lacks permission 'key:write'"), text)
        }
    }

    /// A token without service:read on `redis` gets 200 and an empty list:
    /// taken at its word, that is a cluster without a master.
    func testAReadFilteredByACLsIsAnErrorNamingThePermission() {
        var filtered = ConsulAnswer.json("[]", index: 7)
        filtered.headers.add("X-Consul-Results-Filtered-By-ACLs", "true")
        transport.answer(filtered)
        assertConsulError(try client.healthService("redis", passingOnly: true)) { error in
            guard case let .filteredByACL("GET", path, needed) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/v1/health/service/redis?passing")
            XCTAssertEqual(needed, "service:read on \"redis\" and node:read on its nodes")
            let text = "\(error)"
            XCTAssertTrue(text.contains("CONSUL_HTTP_TOKEN"), text)
            XCTAssertFalse(text.contains(Self.token), text)
        }
        transport.answer(filtered)
        assertConsulError(try client.agentServices()) { error in
            guard case .filteredByACL(_, "/v1/agent/services", "service:read on this agent's services") = error else {
                return XCTFail("\(error)")
            }
        }
        transport.answer(filtered)
        assertConsulError(try client.listKV(prefix: "service/redis/")) { error in
            guard case .filteredByACL(_, _, "key:read under \"service/redis/\"") = error else { return XCTFail("\(error)") }
        }
        var unfiltered = ConsulAnswer.json("[]", index: 7)
        unfiltered.headers.add("X-Consul-Results-Filtered-By-ACLs", "false")
        transport.answer(unfiltered)
        XCTAssertEqual(try client.healthService("redis").entries, [])
    }

    func testAnEchoedTokenIsScrubbedFromTheErrorBody() {
        transport.answer(ConsulAnswer.text("ACL not found for token \(Self.token)", status: 403))
        assertConsulError(try client.agentServices()) { error in
            guard case .http(_, _, 403, let body) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(body, "ACL not found for token <token>")
        }
    }

    func testServerErrorKeepsStatusAndTruncatedBody() {
        let long = "rpc error making call: " + String(repeating: "x", count: 2000)
        transport.answer(ConsulAnswer.text(long, status: 500))
        assertConsulError(try client.agentServices()) { error in
            guard case .http("GET", "/v1/agent/services", 500, let body) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(body.hasPrefix("rpc error making call: xxx"), body)
            XCTAssertTrue(body.hasSuffix("(\(long.utf8.count - ConsulClient.errorBodyLimit) more bytes)"), body)
            XCTAssertLessThan(body.count, 600)
            XCTAssertTrue("\(error)".contains("HTTP 500"))
        }
    }

    func testTransportFailureNamesTheCall() {
        transport.fail(with: NetError.timeout(endpoint: .tcp(host: "127.0.0.1", port: 8500), operation: "read"))
        assertConsulError(try client.leader()) { error in
            guard case .transport("GET", "/v1/status/leader", let underlying) = error else { return XCTFail("\(error)") }
            guard case NetError.timeout = underlying else { return XCTFail("\(underlying)") }
        }
    }

    func testNoTokenSendsNoTokenHeader() throws {
        for token in [nil, ""] as [String?] {
            let transport = ConsulRecordingTransport()
            let client = ConsulClient(transport: transport, token: token, timeout: 2)
            transport.answer(ConsulAnswer.json(#""127.0.0.1:8300""#))
            _ = try client.leader()
            XCTAssertEqual(transport.requests.first?.headers.values("X-Consul-Token"), [])
            XCTAssertEqual(transport.requests.first?.timeout, 2)
        }
    }

    func testTargetEscaping() {
        var target = ConsulRequestTarget("/v1/kv/", key: "service/redis/a b?c#d%e+f&g")
        target.value("acquire", "a=b&c d/é")
        target.flag("recurse")
        XCTAssertEqual(
            target.text, "/v1/kv/service/redis/a%20b%3Fc%23d%25e%2Bf%26g?acquire=a%3Db%26c%20d%2F%C3%A9&recurse")
        XCTAssertEqual(
            ConsulRequestTarget("/v1/agent/service/deregister/", segment: "redis:10.0.0.1/6379").text,
            "/v1/agent/service/deregister/redis%3A10.0.0.1%2F6379")
        XCTAssertEqual(ConsulRequestTarget("/v1/kv/", key: "A-z_0.9~").text, "/v1/kv/A-z_0.9~")
    }

    func testDurationsAreGoDurationStrings() {
        XCTAssertEqual(ConsulDuration.format(seconds: 15), "15s")
        XCTAssertEqual(ConsulDuration.format(seconds: 0.25), "250ms")
        XCTAssertEqual(ConsulDuration.format(seconds: 90.5), "90500ms")
        XCTAssertEqual(ConsulDuration.format(seconds: -3), "0s")
        XCTAssertEqual(ConsulDuration.format(seconds: .nan), "0s")
        XCTAssertEqual(ConsulDuration.format(seconds: .infinity), "0s")
        XCTAssertEqual(ConsulDuration.format(seconds: 1e300), "1000000000s")
    }
}
