import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

/// RedisClient against real redis-server processes.
final class RedisClientTests: XCTestCase {
    private let timeout = 5.0

    func testPingInfoAndRoleOfAStandaloneServer() throws {
        let server = try startRedisServer()
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        defer { client.close() }
        try client.ping()

        let info = try client.info()
        XCTAssertEqual(info.role, .master)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(info.redisVersion), RedisVersion(major: 3, minor: 2))
        XCTAssertEqual(info.runID?.count, 40)
        XCTAssertEqual(info.connectedReplicaCount, 0)
        XCTAssertEqual(info.connectedReplicas, [])
        XCTAssertEqual(info.loading, false)
        XCTAssertEqual(info.aofEnabled, false)
        XCTAssertEqual(info.rdbBgsaveInProgress, false)
        XCTAssertGreaterThan(try XCTUnwrap(info.usedMemory), 0)
        XCTAssertEqual(info.section("server")?["tcp_port"], String(server.port))
        XCTAssertTrue(Set(info.sections.keys).isSuperset(of: ["server", "replication", "persistence", "memory"]))

        let replication = try client.info(section: "replication")
        XCTAssertEqual(Array(replication.sections.keys), ["replication"])
        XCTAssertEqual(try client.serverVersion(), info.redisVersion)

        guard case let .master(_, replicas) = try client.role() else { return XCTFail("not a master") }
        XCTAssertEqual(replicas, [])
    }

    func testUnixSocketEndpoint() throws {
        let server = try startRedisServer(unixSocket: true)
        let path = try XCTUnwrap(server.unixSocketPath)
        let client = try RedisClient.connect(to: .unix(path: path), timeout: timeout)
        defer { client.close() }
        try client.ping()
        XCTAssertEqual(try client.info(section: "server").section("server")?["tcp_port"], String(server.port))
    }

    func testGenericCommandIsBinarySafeAndErrorRepliesThrow() throws {
        let server = try startRedisServer()
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        defer { client.close() }
        let key: [UInt8] = [0x6b, 0x00, 0x0d, 0x0a]
        let value: [UInt8] = (0...255).map { UInt8($0) }
        XCTAssertEqual(try client.command([Array("SET".utf8), key, value]), .simpleString("OK"))
        XCTAssertEqual(try client.command([Array("GET".utf8), key]), .bulkString(value))
        XCTAssertEqual(try client.command(["GET", "missing"]), .nullBulkString)
        XCTAssertEqual(try client.command(["RPUSH", "list", "a", "b"]), .integer(2))
        XCTAssertEqual(try client.command(["LRANGE", "list", "0", "-1"]), .array([.bulkString("a"), .bulkString("b")]))

        XCTAssertThrowsError(try client.command(["NOSUCHCOMMAND", "arg"])) { error in
            guard case let RedisError.server(endpoint, command, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, server.endpoint)
            XCTAssertEqual(command, "NOSUCHCOMMAND")
            XCTAssertTrue(message.hasPrefix("ERR unknown command"), message)
        }
        XCTAssertThrowsError(try client.command(["INCR", "list"])) { error in
            guard case let RedisError.server(_, "INCR", message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("WRONGTYPE"), message)
        }
        // An error reply leaves the connection usable.
        try client.ping()
    }

    func testConfigGetAndSet() throws {
        let server = try startRedisServer()
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        defer { client.close() }
        try client.configSet("maxmemory", "10mb")
        XCTAssertEqual(try client.configGet("maxmemory"), ["maxmemory": "10485760"])
        let matching = try client.configGet("maxmemory*")
        XCTAssertEqual(matching["maxmemory"], "10485760")
        XCTAssertNotNil(matching["maxmemory-policy"])
        XCTAssertEqual(try client.configGet("dir"), ["dir": server.directory])
        XCTAssertEqual(try client.configGet("no-such-parameter"), [:])

        XCTAssertThrowsError(try client.configSet("no-such-parameter", "value-not-in-error")) { error in
            guard case RedisError.server(_, "CONFIG SET", _) = error else { return XCTFail("\(error)") }
        }
    }

    func testBgsaveAndLastSave() throws {
        let server = try startRedisServer()
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        defer { client.close() }
        let before = try client.lastSave()
        try client.command(["SET", "k", "v"])
        XCTAssertEqual(try client.info(section: "persistence").rdbChangesSinceLastSave, 1)

        XCTAssertEqual(try client.bgsave(), .started)
        XCTAssertTrue(pollUntil(timeout: 10) {
            let info = try client.info(section: "persistence")
            return info.rdbBgsaveInProgress == false && info.rdbChangesSinceLastSave == 0
        })
        let persistence = try client.info(section: "persistence")
        XCTAssertEqual(persistence.rdbLastBgsaveStatus, "ok")
        XCTAssertGreaterThanOrEqual(try client.lastSave(), before)
        XCTAssertEqual(try client.lastSave(), persistence.rdbLastSaveTime)
        XCTAssertTrue(FileManager.default.fileExists(atPath: server.directory + "/dump.rdb"))
    }

    func testBgsaveScheduleQueuesBehindAnAOFRewrite() throws {
        // rdb-key-save-delay (microseconds per key) keeps the rewrite running
        // long enough for the BGSAVEs below to meet it.
        let server = try startRedisServer(config: ["rdb-key-save-delay 400000"])
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        defer { client.close() }
        for index in 0..<5 { try client.command(["SET", "key\(index)", "value"]) }

        try client.command(["BGREWRITEAOF"])
        XCTAssertEqual(try client.info(section: "persistence").aofRewriteInProgress, true)
        XCTAssertThrowsError(try client.bgsave()) { error in
            guard case let RedisError.server(_, "BGSAVE", message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("SCHEDULE"), message)
        }
        XCTAssertEqual(try client.bgsave(schedule: true), .scheduled)
        XCTAssertEqual(try client.info(section: "persistence").rdbBgsaveInProgress, false)

        XCTAssertTrue(pollUntil(timeout: 20) {
            let info = try client.info(section: "persistence")
            return info.aofRewriteInProgress == false && info.aofRewriteScheduled == false
                && info.rdbBgsaveInProgress == false && info.rdbChangesSinceLastSave == 0
        })
        let persistence = try client.info(section: "persistence")
        XCTAssertEqual(persistence.aofLastBgrewriteStatus, "ok")
        XCTAssertEqual(persistence.rdbLastBgsaveStatus, "ok")
    }

    func testShutdownClosesTheConnectionAndThatIsSuccess() throws {
        let server = try startRedisServer()
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        try client.shutdown(.noSave)
        XCTAssertTrue(server.waitForExit(timeout: 10))
        XCTAssertThrowsError(try client.ping()) { error in
            XCTAssertEqual(error as? RedisError, .connectionClosed(endpoint: server.endpoint))
        }
    }

    func testShutdownSaveThatCannotSaveThrowsAndServerKeepsRunning() throws {
        let server = try startRedisServer(config: ["enable-protected-configs yes"])
        let client = try RedisClient.connect(to: server.endpoint, timeout: timeout)
        defer { client.close() }
        let doomed = server.directory + "/doomed"
        try FileManager.default.createDirectory(atPath: doomed, withIntermediateDirectories: false)
        try client.configSet("dir", doomed)
        try FileManager.default.removeItem(atPath: doomed)

        XCTAssertThrowsError(try client.shutdown(.save)) { error in
            guard case RedisError.server(server.endpoint, "SHUTDOWN", _) = error else { return XCTFail("\(error)") }
        }
        try client.ping()
        XCTAssertTrue(server.isRunning)
    }

    func testEveryCallIsBoundedByTheTimeout() throws {
        let server = try startRedisServer()
        let client = try RedisClient.connect(to: server.endpoint, timeout: 0.5)
        defer { client.close() }
        // A per-call timeout outlasts a command that blocks for one second.
        XCTAssertEqual(try client.command(["BLPOP", "empty", "1"], timeout: 5), .nullArray)

        server.signal(SIGSTOP)
        let started = Deadline.now
        XCTAssertThrowsError(try client.ping()) { error in
            XCTAssertTrue((error as? RedisError)?.isTimeout == true, "\(error)")
            guard case RedisError.network("PING", .timeout(server.endpoint, "read")) = error else { return XCTFail("\(error)") }
        }
        let elapsed = Double(Deadline.now.nanoseconds - started.nanoseconds) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.45)
        XCTAssertLessThan(elapsed, 2)
        // The late PONG must not be read as the answer to a later command.
        server.signal(SIGCONT)
        XCTAssertThrowsError(try client.ping()) { error in
            XCTAssertEqual(error as? RedisError, .connectionClosed(endpoint: server.endpoint))
        }
    }

    func testConnectToNothingIsANetworkError() throws {
        let port = try RedisProcess.freeLoopbackPort()
        XCTAssertThrowsError(try RedisClient.connect(to: .tcp(host: "127.0.0.1", port: port), timeout: timeout)) { error in
            guard case RedisError.network("connect", .connect(.tcp("127.0.0.1", port), _)) = error else {
                return XCTFail("\(error)")
            }
        }
    }
}

/// AUTH with requirepass and with Redis 6 ACL users.
final class RedisAuthenticationTests: XCTestCase {
    private let password = "pw-Xk39-requirepass"
    private let userPassword = "pw-Qz72-alice"

    func testRequirepass() throws {
        let server = try startRedisServer(config: ["requirepass \(password)"])

        let anonymous = try RedisClient.connect(to: server.endpoint, timeout: 5)
        defer { anonymous.close() }
        XCTAssertThrowsError(try anonymous.ping()) { error in
            guard case let RedisError.server(_, "PING", message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("NOAUTH"), message)
        }

        let client = try RedisClient.connect(to: server.endpoint, credentials: RedisCredentials(password: password), timeout: 5)
        defer { client.close() }
        try client.ping()
    }

    func testWrongPasswordIsRefusedWithoutRevealingIt() throws {
        let server = try startRedisServer(config: ["requirepass \(password)"])
        let wrong = "pw-wrong-7781"
        XCTAssertThrowsError(try RedisClient.connect(to: server.endpoint, credentials: RedisCredentials(password: wrong), timeout: 5)) { error in
            guard case let RedisError.authenticationFailed(endpoint, username, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, server.endpoint)
            XCTAssertNil(username)
            XCTAssertTrue(message.hasPrefix("WRONGPASS"), message)
            let text = "\(error) \(String(reflecting: error))"
            XCTAssertFalse(text.contains(wrong), text)
            XCTAssertFalse(text.contains(password), text)
            XCTAssertTrue(text.contains(server.endpoint.description), text)
        }
    }

    func testACLUser() throws {
        let server = try startRedisServer(config: ["user alice on >\(userPassword) ~* &* +@all", "requirepass \(password)"])
        let alice = try RedisClient.connect(to: server.endpoint, credentials: RedisCredentials(username: "alice", password: userPassword), timeout: 5)
        defer { alice.close() }
        XCTAssertEqual(try alice.command(["ACL", "WHOAMI"]).text, "alice")

        let admin = try RedisClient.connect(to: server.endpoint, credentials: RedisCredentials(password: password), timeout: 5)
        defer { admin.close() }
        XCTAssertEqual(try admin.command(["ACL", "WHOAMI"]).text, "default")

        for credentials in [RedisCredentials(username: "alice", password: password), RedisCredentials(username: "mallory", password: userPassword)] {
            XCTAssertThrowsError(try RedisClient.connect(to: server.endpoint, credentials: credentials, timeout: 5)) { error in
                guard case let RedisError.authenticationFailed(_, username, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(username, credentials.username)
                XCTAssertFalse("\(error)".contains(credentials.password))
                XCTAssertTrue("\(error)".contains("user '\(credentials.username ?? "")'"))
            }
        }
    }

    func testAuthAgainstAServerWithoutPasswordFails() throws {
        let server = try startRedisServer()
        XCTAssertThrowsError(try RedisClient.connect(to: server.endpoint, credentials: RedisCredentials(password: password), timeout: 5)) { error in
            guard case RedisError.authenticationFailed = error else { return XCTFail("\(error)") }
            XCTAssertFalse("\(error)".contains(password))
        }
    }

    func testCredentialsNeverPrintThePassword() {
        let credentials = RedisCredentials(username: "alice", password: userPassword)
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            XCTAssertFalse(text.contains(userPassword), text)
            XCTAssertTrue(text.contains("alice"), text)
        }
    }
}
