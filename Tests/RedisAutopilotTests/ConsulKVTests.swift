import XCTest
@testable import RedisAutopilot

final class ConsulKVTests: ConsulClientTestCase {
    static let session = "adf4238a-882b-9ddc-4a9d-5b6758e4159e"

    func testGetDecodesTheBase64Value() throws {
        transport.answer(ConsulAnswer.json("""
            [{"CreateIndex": 100, "ModifyIndex": 200, "LockIndex": 3, "Key": "service/redis/locks/master",
              "Flags": 42, "Value": "MTAuMC4wLjU6NjM3OQ==", "Session": "\(Self.session)"}]
            """, index: 200))
        let pair = try client.getKV("service/redis/locks/master")
        assertSent("GET", "/v1/kv/service/redis/locks/master")
        XCTAssertEqual(pair, ConsulKVPair(
            key: "service/redis/locks/master", value: Array("10.0.0.5:6379".utf8), flags: 42, session: Self.session,
            createIndex: 100, modifyIndex: 200, lockIndex: 3))
        XCTAssertEqual(pair?.stringValue, "10.0.0.5:6379")
    }

    func testGetKeyWithoutValueOrSession() throws {
        transport.answer(ConsulAnswer.json("""
            [{"CreateIndex": 7, "ModifyIndex": 7, "LockIndex": 0, "Key": "service/redis/empty", "Flags": 0, "Value": null}]
            """, index: 7))
        let pair = try client.getKV("service/redis/empty")
        XCTAssertEqual(pair?.value, nil)
        XCTAssertEqual(pair?.session, nil)
        XCTAssertEqual(pair?.stringValue, nil)
    }

    func testGetMissingKeyIsNil() throws {
        transport.answer(HTTPResponse(status: 404, reason: "Not Found", headers: HTTPHeaders([("X-Consul-Index", "9")])))
        XCTAssertNil(try client.getKV("service/redis/last-backup"))
        assertSent("GET", "/v1/kv/service/redis/last-backup")
    }

    func testGetValueThatIsNotBase64IsADecodeError() {
        transport.answer(ConsulAnswer.json(#"[{"Key": "k", "Value": "not base64!"}]"#, index: 1))
        assertConsulError(try client.getKV("k")) { error in
            guard case .decode("/v1/kv/k", let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("base64"), message)
        }
    }

    func testGetEmptyListIsADecodeError() {
        transport.answer(ConsulAnswer.json("[]", index: 1))
        assertConsulError(try client.getKV("k")) { error in
            guard case .decode("/v1/kv/k", _) = error else { return XCTFail("\(error)") }
        }
    }

    func testListRecurse() throws {
        transport.answer(ConsulAnswer.json("""
            [
              {"CreateIndex": 10, "ModifyIndex": 11, "LockIndex": 0, "Key": "service/redis/backup-interval",
               "Flags": 0, "Value": "ODY0MDA=", "Session": ""},
              {"CreateIndex": 12, "ModifyIndex": 12, "LockIndex": 1, "Key": "service/redis/last-backup",
               "Flags": 0, "Value": "cmVkaXMtMjAyNi0wMS0wMVQwMDowMDowMFoucmRiLmd6"}
            ]
            """, index: 12))
        let pairs = try client.listKV(prefix: "service/redis/")
        assertSent("GET", "/v1/kv/service/redis/?recurse")
        XCTAssertEqual(pairs.map(\.key), ["service/redis/backup-interval", "service/redis/last-backup"])
        XCTAssertEqual(pairs.map(\.stringValue), ["86400", "redis-2026-01-01T00:00:00Z.rdb.gz"])
        XCTAssertEqual(pairs[0].session, nil, "an empty Session is no session")
    }

    func testListNothingIsEmpty() throws {
        transport.answer(HTTPResponse(status: 404))
        XCTAssertEqual(try client.listKV(prefix: "service/none/"), [])
    }

    func testPutSendsTheRawValue() throws {
        transport.answer(ConsulAnswer.json("true"))
        XCTAssertTrue(try client.putKV("service/redis/last-backup", value: Array("redis-1.rdb.gz".utf8)))
        let requests = transport.takeRequests()
        XCTAssertEqual(requests.count, 1)
        XCTAssertEqual(requests.first?.method, "PUT")
        XCTAssertEqual(requests.first?.target, "/v1/kv/service/redis/last-backup")
        XCTAssertEqual(requests.first?.body, Array("redis-1.rdb.gz".utf8))
        XCTAssertEqual(requests.first?.headers.values("X-Consul-Token"), [Self.token])
    }

    func testPutWithCasAndFlags() throws {
        transport.answer(ConsulAnswer.json("false"))
        XCTAssertFalse(try client.putKV("service/redis-sentinel/quorum", value: Array("2".utf8), cas: 0, flags: 7))
        XCTAssertEqual(transport.takeRequests().map(\.target), ["/v1/kv/service/redis-sentinel/quorum?cas=0&flags=7"])
    }

    func testPutAnswerThatIsNotABoolIsADecodeError() {
        transport.answer(ConsulAnswer.json(#"{"ok": true}"#))
        assertConsulError(try client.putKV("k", value: [])) { error in
            guard case .decode("/v1/kv/k", _) = error else { return XCTFail("\(error)") }
        }
    }

    func testAcquireLock() throws {
        transport.answer(ConsulAnswer.json("true"))
        XCTAssertTrue(try client.acquireLock(key: "service/redis/locks/master", session: Self.session, value: Array("node-a".utf8)))
        let request = transport.takeRequests().first
        XCTAssertEqual(request?.target, "/v1/kv/service/redis/locks/master?acquire=\(Self.session)")
        XCTAssertEqual(request?.body, Array("node-a".utf8))
        XCTAssertEqual(request?.method, "PUT")
    }

    func testAcquireLockHeldElsewhereIsFalse() throws {
        transport.answer(ConsulAnswer.json("false"))
        XCTAssertFalse(try client.acquireLock(key: "service/redis/locks/master", session: Self.session, value: []))
    }

    func testAcquireLockWithUnknownSessionIsSessionNotFound() {
        transport.answer(ConsulAnswer.text("invalid session \"\(Self.session)\"", status: 500))
        assertConsulError(try client.acquireLock(key: "service/redis/locks/master", session: Self.session, value: [])) { error in
            guard case .sessionNotFound(Self.session) = error else { return XCTFail("\(error)") }
        }
    }

    func testAcquireLockOtherServerErrorStaysHTTP() {
        transport.answer(ConsulAnswer.text("rpc error making call: No cluster leader", status: 500))
        assertConsulError(try client.acquireLock(key: "k", session: Self.session, value: [])) { error in
            guard case .http("PUT", _, 500, "rpc error making call: No cluster leader") = error else { return XCTFail("\(error)") }
        }
    }

    func testReleaseLock() throws {
        transport.answer(ConsulAnswer.json("true"))
        XCTAssertTrue(try client.releaseLock(key: "service/redis/locks/master", session: Self.session, value: Array("node-a".utf8)))
        let request = transport.takeRequests().first
        XCTAssertEqual(request?.target, "/v1/kv/service/redis/locks/master?release=\(Self.session)")
        XCTAssertEqual(request?.body, Array("node-a".utf8))
        transport.answer(ConsulAnswer.json("false"))
        XCTAssertFalse(try client.releaseLock(key: "service/redis/locks/master", session: "not-the-holder", value: []))
    }

    func testDelete() throws {
        transport.answer(ConsulAnswer.json("true"))
        XCTAssertTrue(try client.deleteKV("service/redis/last-backup"))
        assertSent("DELETE", "/v1/kv/service/redis/last-backup")
    }

    func testDeleteWithCasAndRecurse() throws {
        transport.answer(ConsulAnswer.json("false"))
        XCTAssertFalse(try client.deleteKV("service/redis/locks/master", cas: 200))
        assertSent("DELETE", "/v1/kv/service/redis/locks/master?cas=200")
        transport.answer(ConsulAnswer.json("true"))
        XCTAssertTrue(try client.deleteKV("service/redis/", recurse: true))
        assertSent("DELETE", "/v1/kv/service/redis/?recurse")
    }

    func testKeysAreEscapedButKeepTheirSlashes() throws {
        transport.answer(HTTPResponse(status: 404))
        _ = try client.getKV("service/redis/nodes/10.0.0.5:6379 #1")
        assertSent("GET", "/v1/kv/service/redis/nodes/10.0.0.5%3A6379%20%231")
    }
}
