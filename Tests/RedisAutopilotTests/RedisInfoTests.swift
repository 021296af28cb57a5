import XCTest
@testable import RedisAutopilot

final class RedisInfoTests: XCTestCase {
    func testRedis7MasterWithAReplica() throws {
        let info = try RedisInfo(parsing: Redis7InfoFixture.wire(Redis7InfoFixture.master))
        XCTAssertEqual(info.sections.keys.sorted(), ["clients", "cluster", "cpu", "errorstats", "keyspace", "memory",
                                                     "modules", "persistence", "replication", "server", "stats"])
        XCTAssertEqual(info.redisVersion, RedisVersion(major: 7, minor: 0, patch: 15))
        XCTAssertEqual(info.runID, "f32bb89f07a3c6f2c08685dc39202d13f7e1bdde")
        XCTAssertEqual(info.role, .master)
        XCTAssertEqual(info.connectedReplicaCount, 1)
        XCTAssertEqual(info.connectedReplicas, [ConnectedReplica(ip: "127.0.0.1", port: 16392, state: "online", offset: 119, lag: 0)])
        XCTAssertEqual(info.masterReplicationOffset, 119)
        XCTAssertNil(info.masterHost)
        XCTAssertNil(info.masterPort)
        XCTAssertFalse(info.isMasterLinkUp)
        XCTAssertEqual(info.loading, false)
        XCTAssertEqual(info.rdbBgsaveInProgress, false)
        XCTAssertEqual(info.rdbLastBgsaveStatus, "ok")
        XCTAssertEqual(info.rdbLastSaveTime, 1_795_624_738)
        XCTAssertEqual(info.rdbChangesSinceLastSave, 2)
        XCTAssertEqual(info.aofEnabled, false)
        XCTAssertEqual(info.aofRewriteInProgress, false)
        XCTAssertEqual(info.aofRewriteScheduled, false)
        XCTAssertEqual(info.aofLastBgrewriteStatus, "ok")
        XCTAssertEqual(info.usedMemory, 1_059_384)
        // Values keep everything after the first colon, and empty values stay empty.
        XCTAssertEqual(info.section("Server")?["executable"], "/tmp/capinfo/redis-server")
        XCTAssertEqual(info.section("server")?["config_file"], "")
        XCTAssertEqual(info.section("keyspace")?["db0"], "keys=2,expires=0,avg_ttl=0")
        XCTAssertEqual(info["used_memory_human"], "1.01M")
    }

    func testRedis7Replica() throws {
        let info = try RedisInfo(parsing: Redis7InfoFixture.wire(Redis7InfoFixture.replica))
        XCTAssertEqual(info.role, .replica)
        XCTAssertEqual(info.masterHost, "127.0.0.1")
        XCTAssertEqual(info.masterPort, 16391)
        XCTAssertEqual(info.masterLinkStatus, "up")
        XCTAssertTrue(info.isMasterLinkUp)
        XCTAssertEqual(info.connectedReplicaCount, 0)
        XCTAssertEqual(info.connectedReplicas, [])
        XCTAssertEqual(info.masterReplicationOffset, 119)
        XCTAssertEqual(info.runID, "ffc536fbd91e7b32a4979bde4c38d046f98e4db6")
    }

    func testLFOnlyTextReadsTheSame() throws {
        XCTAssertEqual(try RedisInfo(parsing: Redis7InfoFixture.master),
                       try RedisInfo(parsing: Redis7InfoFixture.wire(Redis7InfoFixture.master)))
    }

    func testRoleSpellings() throws {
        XCTAssertEqual(try RedisInfo(parsing: "role:master\r\n").role, .master)
        XCTAssertEqual(try RedisInfo(parsing: "role:slave\r\n").role, .replica)
        XCTAssertEqual(try RedisInfo(parsing: "role:replica\r\n").role, .replica)
        XCTAssertNil(try RedisInfo(parsing: "role:sentinel\r\n").role)
        XCTAssertNil(try RedisInfo(parsing: "role:\r\n").role)
    }

    func testSeveralReplicasInNumericOrder() throws {
        var text = "# Replication\r\nrole:master\r\nconnected_slaves:11\r\n"
        for index in (0...10).reversed() {
            text += "slave\(index):ip=10.0.0.\(index),port=\(7000 + index),state=online,offset=\(index),lag=1\r\n"
        }
        text += "slave_read_only:1\r\n"
        let replicas = try RedisInfo(parsing: text).connectedReplicas
        XCTAssertEqual(replicas.map(\.port), Array(7000...7010))
        XCTAssertEqual(replicas.last?.ip, "10.0.0.10")
    }

    func testEmptyInfoHasNoFields() throws {
        let info = try RedisInfo(parsing: "")
        XCTAssertEqual(info.sections, [:])
        XCTAssertNil(info.role)
        XCTAssertNil(info.usedMemory)
        XCTAssertEqual(info.connectedReplicas, [])
    }

    func testMalformedLinesAreErrors() {
        let cases: [(String, Int)] = [
            ("# Server\r\nredis_version:7.0.0\r\nthis line has no colon\r\n", 3),
            (":value without key\r\n", 1),
            ("\u{0}\u{1}\u{2}", 1),
            ("role:master\r\n\r\n# Replication\r\n\u{FFFD}garbage", 4),
        ]
        for (text, line) in cases {
            XCTAssertThrowsError(try RedisInfo(parsing: text), text.debugDescription) { error in
                guard case let RedisInfoError.malformedLine(number, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(number, line, text.debugDescription)
            }
        }
    }

    func testMalformedValuesReadAsNil() throws {
        let info = try RedisInfo(parsing: """
        # Server
        redis_version:seven
        # Replication
        role:boss
        connected_slaves:-x
        slave0:ip=,port=1
        slave1:ip=10.0.0.1,port=notaport,state=online
        slave2:ip=10.0.0.2,port=99999,state=online
        slave3:garbage
        slavex:ip=10.0.0.3,port=6379
        slave4:ip=10.0.0.4,port=6379
        master_port:65536x
        master_repl_offset:99999999999999999999999
        # Persistence
        loading:2
        rdb_bgsave_in_progress:yes
        aof_enabled:
        rdb_last_save_time:1.5
        # Memory
        used_memory:-
        """)
        XCTAssertNil(info.redisVersion)
        XCTAssertNil(info.role)
        XCTAssertNil(info.connectedReplicaCount)
        // Only the one well-formed replica line survives, with what it lacks as nil.
        XCTAssertEqual(info.connectedReplicas, [ConnectedReplica(ip: "10.0.0.4", port: 6379, state: "", offset: nil, lag: nil)])
        XCTAssertNil(info.masterPort)
        XCTAssertNil(info.masterReplicationOffset)
        XCTAssertNil(info.loading)
        XCTAssertNil(info.rdbBgsaveInProgress)
        XCTAssertNil(info.aofEnabled)
        XCTAssertNil(info.rdbLastSaveTime)
        XCTAssertNil(info.usedMemory)
    }

    func testRandomTextNeverCrashes() {
        var state: UInt64 = 42
        let alphabet = Array("#:=,\r\n slave0ip=port=1role:masterloading:\u{0}é".unicodeScalars)
        for _ in 0..<2000 {
            var text = ""
            for _ in 0..<60 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text.unicodeScalars.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            if let info = try? RedisInfo(parsing: text) {
                _ = (info.role, info.connectedReplicas, info.masterPort, info.loading, info.usedMemory, info.redisVersion)
            }
        }
    }
}

final class RedisVersionTests: XCTestCase {
    func testParsing() {
        XCTAssertEqual(RedisVersion("7.0.15"), RedisVersion(major: 7, minor: 0, patch: 15))
        XCTAssertEqual(RedisVersion("6.2"), RedisVersion(major: 6, minor: 2, patch: 0))
        XCTAssertEqual(RedisVersion("5"), RedisVersion(major: 5, minor: 0))
        XCTAssertEqual(RedisVersion(" 3.2.12\r\n"), RedisVersion(major: 3, minor: 2, patch: 12))
        for bad in ["", "seven", "7.0.15.1", "7..1", "-1.0", "7.0.x", "7.0.", "+7.0", "99999999999999999999.0", "٧.0"] {
            XCTAssertNil(RedisVersion(bad), bad)
        }
    }

    func testOrderingIsNumeric() {
        let sorted = ["10.0.0", "2.8.24", "5.0.0", "4.0.14", "3.2.12", "7.0.15", "7.0.2", "6.2.14"]
            .compactMap(RedisVersion.init).sorted().map(\.description)
        XCTAssertEqual(sorted, ["2.8.24", "3.2.12", "4.0.14", "5.0.0", "6.2.14", "7.0.2", "7.0.15", "10.0.0"])
    }
}

final class RedisRoleTests: XCTestCase {
    func testMasterWithReplicas() {
        let reply = RESPValue.array([
            .bulkString("master"), .integer(3129659),
            .array([
                .array([.bulkString("127.0.0.1"), .bulkString("9001"), .bulkString("3129242")]),
                .array([.bulkString("127.0.0.1"), .bulkString("9002"), .bulkString("3129543")]),
            ]),
        ])
        XCTAssertEqual(RedisRole(reply: reply), .master(offset: 3_129_659, replicas: [
            .init(address: try! NodeAddress(host: "127.0.0.1", port: 9001), offset: 3_129_242),
            .init(address: try! NodeAddress(host: "127.0.0.1", port: 9002), offset: 3_129_543),
        ]))
    }

    func testReplica() {
        let reply = RESPValue.array([.bulkString("slave"), .bulkString("127.0.0.1"), .integer(9000), .bulkString("connected"), .integer(3167038)])
        XCTAssertEqual(RedisRole(reply: reply), .replica(master: try! NodeAddress(host: "127.0.0.1", port: 9000), state: "connected", offset: 3_167_038))
    }

    func testSentinel() {
        let reply = RESPValue.array([.bulkString("sentinel"), .array([.bulkString("mymaster"), .bulkString("other")])])
        XCTAssertEqual(RedisRole(reply: reply), .sentinel(masterNames: ["mymaster", "other"]))
    }

    func testMalformedRepliesAreNil() {
        let bad: [RESPValue] = [
            .simpleString("master"),
            .array([]),
            .array([.integer(1)]),
            .array([.bulkString("leader"), .integer(0), .array([])]),
            .array([.bulkString("master"), .bulkString("0"), .array([])]),
            .array([.bulkString("master"), .integer(0)]),
            .array([.bulkString("master"), .integer(0), .array([.array([.bulkString("h"), .bulkString("port"), .bulkString("0")])])]),
            .array([.bulkString("master"), .integer(0), .array([.array([.bulkString("h")])])]),
            .array([.bulkString("slave"), .bulkString("h"), .bulkString("6379"), .bulkString("connected"), .integer(0)]),
            .array([.bulkString("slave"), .bulkString("h"), .integer(6379)]),
            .array([.bulkString("sentinel"), .array([.integer(1)])]),
            .array([.bulkString("sentinel"), .nullArray]),
            // Addresses that cannot be one.
            .array([.bulkString("slave"), .bulkString("10.0.0.1\nslaveof x"), .integer(6379), .bulkString("connected"), .integer(0)]),
            .array([.bulkString("slave"), .bulkString("10.0.0.1"), .integer(70000), .bulkString("connected"), .integer(0)]),
            .array([.bulkString("master"), .integer(0), .array([.array([.bulkString("a b"), .bulkString("6379"), .bulkString("0")])])]),
        ]
        for reply in bad {
            XCTAssertNil(RedisRole(reply: reply), "\(reply)")
        }
    }
}
