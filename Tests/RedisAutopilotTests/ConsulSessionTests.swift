import XCTest
@testable import RedisAutopilot

final class ConsulSessionTests: ConsulClientTestCase {
    static let id = "adf4238a-882b-9ddc-4a9d-5b6758e4159e"

    /// The documented answer of session info and renew (Consul 1.7+).
    static let info = """
        [
          {
            "ID": "adf4238a-882b-9ddc-4a9d-5b6758e4159e", "Name": "redis-bootstrap", "Node": "node-a",
            "NodeChecks": ["serfHealth"], "ServiceChecks": [{"ID": "service:redis-10.0.0.5", "Namespace": ""}],
            "LockDelay": 1.5e+10, "Behavior": "release", "TTL": "30s",
            "CreateIndex": 1086449, "ModifyIndex": 1086449
          }
        ]
        """

    func testCreateSession() throws {
        transport.answer(ConsulAnswer.json(#"{"ID": "\#(Self.id)"}"#))
        let id = try client.createSession(ConsulSessionRequest(
            name: "redis-bootstrap", ttl: 30, lockDelay: 5, behavior: .release,
            checks: ["serfHealth", "service:redis-10.0.0.5"]))
        XCTAssertEqual(id, Self.id)
        assertSent("PUT", "/v1/session/create", json: """
            {"Name": "redis-bootstrap", "TTL": "30s", "LockDelay": "5s", "Behavior": "release",
             "Checks": ["serfHealth", "service:redis-10.0.0.5"]}
            """)
    }

    func testCreateSessionWithNodeAndServiceChecks() throws {
        transport.answer(ConsulAnswer.json(#"{"ID": "\#(Self.id)"}"#))
        _ = try client.createSession(ConsulSessionRequest(
            node: "node-a", behavior: .delete, nodeChecks: ["serfHealth"], serviceChecks: ["service:redis-10.0.0.5"]))
        assertSent("PUT", "/v1/session/create", json: """
            {"Node": "node-a", "Behavior": "delete", "NodeChecks": ["serfHealth"],
             "ServiceChecks": [{"ID": "service:redis-10.0.0.5"}]}
            """)
    }

    func testCreateSessionWithDefaultsSendsAnEmptyObject() throws {
        transport.answer(ConsulAnswer.json(#"{"ID": "\#(Self.id)"}"#))
        _ = try client.createSession(ConsulSessionRequest())
        assertSent("PUT", "/v1/session/create", json: "{}")
    }

    func testCreateSessionNoChecksSendsAnEmptyList() throws {
        transport.answer(ConsulAnswer.json(#"{"ID": "\#(Self.id)"}"#))
        _ = try client.createSession(ConsulSessionRequest(ttl: 10, checks: []))
        assertSent("PUT", "/v1/session/create", json: #"{"TTL": "10s", "Checks": []}"#)
    }

    /// After an agent (re)starts Consul refuses sessions on its node until
    /// the leader has reconciled it (state/session.go's messages).
    func testCreateSessionWaitsWhileTheNodeIsNotYetReconciled() throws {
        for message in ["Missing node registration", "Missing check 'serfHealth' registration",
                        "Check 'serfHealth' is in critical state"] {
            transport.answer(ConsulAnswer.text(message, status: 500))
        }
        transport.answer(ConsulAnswer.json(#"{"ID": "\#(Self.id)"}"#))
        var waited: [String] = []
        let id = try client.createSession(ConsulSessionRequest(ttl: 30), waitingUpTo: 10, pause: 0.01) { waited.append("\($0)") }
        XCTAssertEqual(id, Self.id)
        XCTAssertEqual(waited.count, 3)
        XCTAssertTrue(waited[1].contains("Missing check 'serfHealth' registration"), waited[1])
    }

    func testCreateSessionDoesNotWaitForOtherRefusalsNorPastItsTime() {
        transport.answer(ConsulAnswer.text("Check 'service:redis-10.0.0.5' is in critical state", status: 500))
        var waited = 0
        assertConsulError(try client.createSession(ConsulSessionRequest(), waitingUpTo: 10, pause: 0.01) { _ in waited += 1 }) { error in
            XCTAssertFalse(error.isNodeNotYetHealthy)
        }
        transport.answer(ConsulAnswer.text("Check 'serfHealth' is in critical state", status: 500))
        assertConsulError(try client.createSession(ConsulSessionRequest(), waitingUpTo: 0, pause: 0.01) { _ in waited += 1 }) { error in
            XCTAssertTrue(error.isNodeNotYetHealthy)
        }
        XCTAssertEqual(waited, 0)
    }

    func testCreateSessionAgainstCriticalCheckFails() {
        transport.answer(ConsulAnswer.text(
            "rpc error making call: Check 'service:redis-10.0.0.5' is in critical state", status: 500))
        assertConsulError(try client.createSession(ConsulSessionRequest(checks: ["service:redis-10.0.0.5"]))) { error in
            guard case .http("PUT", "/v1/session/create", 500, let body) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(body.contains("critical state"), body)
        }
    }

    func testCreateSessionAnswerWithoutIDIsADecodeError() {
        transport.answer(ConsulAnswer.json(#"{"Id": "x"}"#))
        assertConsulError(try client.createSession(ConsulSessionRequest())) { error in
            guard case .decode("/v1/session/create", let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("\"ID\""), message)
        }
    }

    func testRenewSession() throws {
        transport.answer(ConsulAnswer.json(Self.info))
        let session = try client.renewSession(id: Self.id)
        assertSent("PUT", "/v1/session/renew/\(Self.id)")
        XCTAssertEqual(session, ConsulSession(
            id: Self.id, name: "redis-bootstrap", node: "node-a", behavior: .release, ttl: "30s", lockDelay: 15,
            nodeChecks: ["serfHealth"], serviceChecks: ["service:redis-10.0.0.5"],
            createIndex: 1086449, modifyIndex: 1086449))
    }

    func testRenewGoneSessionIsSessionNotFound() {
        transport.answer(ConsulAnswer.text("Session id '\(Self.id)' not found", status: 404))
        assertConsulError(try client.renewSession(id: Self.id)) { error in
            guard case .sessionNotFound(Self.id) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(Self.id))
        }
    }

    func testRenewAnsweringNoSessionIsSessionNotFound() {
        transport.answer(ConsulAnswer.json("null"))
        assertConsulError(try client.renewSession(id: Self.id)) { error in
            guard case .sessionNotFound(Self.id) = error else { return XCTFail("\(error)") }
        }
    }

    func testDestroySession() throws {
        transport.answer(ConsulAnswer.json("true"))
        try client.destroySession(id: Self.id)
        assertSent("PUT", "/v1/session/destroy/\(Self.id)")
    }

    func testARenewedSessionIsDecoded() throws {
        transport.answer(ConsulAnswer.json(Self.info, index: 1086449))
        let session = try client.renewSession(id: Self.id)
        assertSent("PUT", "/v1/session/renew/\(Self.id)")
        XCTAssertEqual(session.lockDelay, 15)
        XCTAssertEqual(session.serviceChecks, ["service:redis-10.0.0.5"])
    }

    func testASessionFromConsulBefore17UsesChecks() throws {
        transport.answer(ConsulAnswer.json("""
            [{"LockDelay": 15000000000, "Checks": ["serfHealth"], "Node": "node-a",
              "ID": "\(Self.id)", "CreateIndex": 1086449, "Behavior": "delete", "TTL": ""}]
            """, index: 1))
        let session = try client.renewSession(id: Self.id)
        XCTAssertEqual(session, ConsulSession(
            id: Self.id, node: "node-a", behavior: .delete, ttl: nil, lockDelay: 15, nodeChecks: ["serfHealth"],
            createIndex: 1086449))
    }

    func testASessionWithUnknownBehaviorIsADecodeError() {
        transport.answer(ConsulAnswer.json(#"[{"ID": "x", "Node": "n", "Behavior": "explode"}]"#, index: 3))
        assertConsulError(try client.renewSession(id: "x")) { error in
            guard case .decode("/v1/session/renew/x", let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("Behavior"), message)
        }
    }
}
