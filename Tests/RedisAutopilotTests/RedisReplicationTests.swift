import XCTest
@testable import RedisAutopilot

/// A real master and a real replica, made one by REPLICAOF and unmade by REPLICAOF NO ONE.
final class RedisReplicationTests: XCTestCase {
    func testReplicaOfAndBackSeenInInfoAndRole() throws {
        let masterServer = try startRedisServer()
        let replicaServer = try startRedisServer()
        let master = try RedisClient.connect(to: masterServer.endpoint, timeout: 5)
        let replica = try RedisClient.connect(to: replicaServer.endpoint, timeout: 5)
        defer { master.close(); replica.close() }
        try master.command(["SET", "before", "1"])

        try replica.replicaOf(host: "127.0.0.1", port: masterServer.port)
        XCTAssertTrue(pollUntil(timeout: 20) { try replica.info(section: "replication").isMasterLinkUp },
                      replicaServer.output)

        let replicaInfo = try replica.info(section: "replication")
        XCTAssertEqual(replicaInfo.role, .replica)
        XCTAssertEqual(replicaInfo.masterHost, "127.0.0.1")
        XCTAssertEqual(replicaInfo.masterPort, masterServer.port)
        guard case let .replica(followed, state, _) = try replica.role() else { return XCTFail("replica ROLE") }
        XCTAssertEqual(followed, masterServer.address)
        XCTAssertEqual(state, "connected")

        XCTAssertTrue(pollUntil(timeout: 10) {
            try master.info(section: "replication").connectedReplicas.first?.state == "online"
        })
        let masterInfo = try master.info(section: "replication")
        XCTAssertEqual(masterInfo.role, .master)
        XCTAssertEqual(masterInfo.connectedReplicaCount, 1)
        XCTAssertEqual(masterInfo.connectedReplicas.map(\.port), [replicaServer.port])
        XCTAssertEqual(masterInfo.connectedReplicas.first?.ip, "127.0.0.1")
        guard case let .master(_, replicas) = try master.role() else { return XCTFail("master ROLE") }
        XCTAssertEqual(replicas.map(\.address), [replicaServer.address])

        // Data flows, and the replica refuses writes.
        XCTAssertEqual(try replica.command(["GET", "before"]), .bulkString("1"))
        try master.command(["SET", "after", "2"])
        XCTAssertTrue(pollUntil(timeout: 10) { try replica.command(["GET", "after"]) == .bulkString("2") })
        XCTAssertThrowsError(try replica.command(["SET", "x", "y"])) { error in
            guard case let RedisError.server(_, "SET", message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("READONLY"), message)
        }
        XCTAssertTrue(pollUntil(timeout: 10) {
            let masterOffset = try master.info(section: "replication").masterReplicationOffset
            let replicaOffset = try replica.info(section: "replication").masterReplicationOffset
            return masterOffset != nil && masterOffset == replicaOffset
        })

        try replica.replicaOfNoOne()
        guard case .master = try replica.role() else { return XCTFail("promoted replica is not a master") }
        XCTAssertEqual(try replica.info(section: "replication").role, .master)
        XCTAssertEqual(try replica.command(["SET", "x", "y"]), .simpleString("OK"))
        XCTAssertEqual(try replica.command(["GET", "after"]), .bulkString("2"))
        XCTAssertTrue(pollUntil(timeout: 10) { try master.info(section: "replication").connectedReplicaCount == 0 })
    }
}
