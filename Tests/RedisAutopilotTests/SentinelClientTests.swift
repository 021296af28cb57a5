import Glibc
import XCTest
@testable import RedisAutopilot

/// SentinelClient against real redis-sentinel processes watching a real
/// master and replica.
final class SentinelClientTests: XCTestCase {
    private let masterName = "mymaster"

    private struct Cluster {
        let master: RedisProcess
        let replica: RedisProcess
        let sentinel: RedisProcess
    }

    /// A master, a replica in sync with it, and one sentinel (quorum 1) that
    /// has seen the replica.
    private func startCluster() throws -> (Cluster, SentinelClient) {
        let master = try startRedisServer()
        let replica = try startRedisServer(config: ["replicaof 127.0.0.1 \(master.port)"])
        let replicaClient = try RedisClient.connect(to: replica.endpoint, timeout: 5)
        defer { replicaClient.close() }
        XCTAssertTrue(pollUntil(timeout: 20) { try replicaClient.info(section: "replication").isMasterLinkUp })

        let sentinel = try startRedisSentinel(monitoring: master.address, masterName: masterName)
        let client = try SentinelClient.connect(to: sentinel.endpoint, timeout: 5)
        addTeardownBlock { client.close() }
        let seen = pollUntil(timeout: 30) {
            try client.replicas(name: self.masterName).contains { $0.port == replica.port && $0.masterLinkStatus == "ok" && !$0.isDown }
        }
        XCTAssertTrue(seen, "sentinel never saw the replica:\n\(sentinel.output)")
        return (Cluster(master: master, replica: replica, sentinel: sentinel), client)
    }

    func testQueriesOnAMonitoredMaster() throws {
        let (cluster, sentinel) = try startCluster()
        try sentinel.ping()

        XCTAssertEqual(try sentinel.masterAddress(name: masterName), cluster.master.address)
        XCTAssertNil(try sentinel.masterAddress(name: "unknown"))

        let master = try sentinel.master(name: masterName)
        XCTAssertEqual(master.name, masterName)
        XCTAssertEqual(master.ip, "127.0.0.1")
        XCTAssertEqual(master.port, cluster.master.port)
        XCTAssertEqual(master.flags, ["master"])
        XCTAssertFalse(master.isDown)
        XCTAssertEqual(master.quorum, 1)
        XCTAssertEqual(master.numReplicas, 1)
        XCTAssertEqual(master.numOtherSentinels, 0)
        XCTAssertEqual(master.downAfterMilliseconds, 1000)
        XCTAssertEqual(master.failoverTimeout, 10000)
        XCTAssertNil(master.failoverState)
        XCTAssertFalse(master.isFailoverInProgress)
        XCTAssertEqual(master.runID?.count, 40)
        XCTAssertThrowsError(try sentinel.master(name: "unknown")) { error in
            guard case let RedisError.server(endpoint, "SENTINEL MASTER", message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, cluster.sentinel.endpoint)
            XCTAssertTrue(message.contains("No such master"), message)
        }

        let replicas = try sentinel.replicas(name: masterName)
        XCTAssertEqual(replicas.count, 1)
        let replica = try XCTUnwrap(replicas.first)
        XCTAssertEqual(replica.ip, "127.0.0.1")
        XCTAssertEqual(replica.port, cluster.replica.port)
        XCTAssertTrue(replica.flags.contains("slave"))
        XCTAssertEqual(replica.masterHost, "127.0.0.1")
        XCTAssertEqual(replica.masterPort, cluster.master.port)
        XCTAssertEqual(replica.priority, 100)
        XCTAssertNotNil(replica.replicationOffset)

        XCTAssertEqual(try sentinel.sentinels(name: masterName), [])

        let quorum = try sentinel.checkQuorum(name: masterName)
        XCTAssertTrue(quorum.reachable, quorum.message)
        XCTAssertTrue(quorum.message.hasPrefix("OK 1 usable"), quorum.message)
        XCTAssertThrowsError(try sentinel.checkQuorum(name: "unknown")) { error in
            guard case RedisError.server(_, "SENTINEL CKQUORUM", _) = error else { return XCTFail("\(error)") }
        }

        let asRedis = try RedisClient.connect(to: cluster.sentinel.endpoint, timeout: 5)
        defer { asRedis.close() }
        XCTAssertEqual(try asRedis.role(), .sentinel(masterNames: [masterName]))
    }

    func testSecondSentinelIsSeenAndItsLossBreaksTheQuorum() throws {
        let (cluster, sentinel) = try startCluster()
        let other = try startRedisSentinel(monitoring: cluster.master.address, masterName: masterName)

        let discovered = pollUntil(timeout: 30) {
            try sentinel.sentinels(name: self.masterName).contains { $0.port == other.port && !$0.isDown }
        }
        XCTAssertTrue(discovered, "the sentinels never met:\n\(other.output)")
        let peer = try XCTUnwrap(sentinel.sentinels(name: masterName).first)
        XCTAssertEqual(peer.ip, "127.0.0.1")
        XCTAssertTrue(peer.flags.contains("sentinel"))
        XCTAssertEqual(peer.runID?.count, 40)
        XCTAssertEqual(try sentinel.master(name: masterName).numOtherSentinels, 1)
        XCTAssertTrue(try sentinel.checkQuorum(name: masterName).reachable)

        // Two sentinels need both for a majority: losing one is NOQUORUM, a result rather than an error.
        other.stop()
        XCTAssertTrue(pollUntil(timeout: 20) { try !sentinel.checkQuorum(name: self.masterName).reachable })
        let check = try sentinel.checkQuorum(name: masterName)
        XCTAssertTrue(check.message.hasPrefix("NOQUORUM"), check.message)
    }

    func testResetForgetsAndRediscovers() throws {
        let (cluster, sentinel) = try startCluster()
        XCTAssertEqual(try sentinel.reset(pattern: "nomatch*"), 0)
        XCTAssertEqual(try sentinel.replicas(name: masterName).count, 1)

        XCTAssertEqual(try sentinel.reset(pattern: "my*"), 1)
        XCTAssertEqual(try sentinel.replicas(name: masterName), [])
        XCTAssertEqual(try sentinel.masterAddress(name: masterName), cluster.master.address)
        // The replica comes back from the master's next INFO (every 10 s).
        XCTAssertTrue(pollUntil(timeout: 30) {
            try sentinel.replicas(name: self.masterName).contains { $0.port == cluster.replica.port }
        })
    }

    func testFailoverPromotesTheReplica() throws {
        let (cluster, sentinel) = try startCluster()
        XCTAssertThrowsError(try sentinel.failover(name: "unknown")) { error in
            guard case RedisError.server(_, "SENTINEL FAILOVER", _) = error else { return XCTFail("\(error)") }
        }

        try sentinel.failover(name: masterName)
        let switched = pollUntil(timeout: 30) { try sentinel.masterAddress(name: self.masterName) == cluster.replica.address }
        XCTAssertTrue(switched, "no switch:\n\(cluster.sentinel.output)")

        // Sentinel kills client connections of an instance it reconfigures,
        // so every look opens a new one.
        func replication(of server: RedisProcess) throws -> RedisInfo {
            let client = try RedisClient.connect(to: server.endpoint, timeout: 5)
            defer { client.close() }
            return try client.info(section: "replication")
        }
        XCTAssertTrue(pollUntil(timeout: 10) { try replication(of: cluster.replica).role == .master })
        // Sentinel turns the old master into a replica of the new one.
        XCTAssertTrue(pollUntil(timeout: 30) {
            let info = try replication(of: cluster.master)
            return info.role == .replica && info.masterPort == cluster.replica.port
        }, cluster.sentinel.output)

        XCTAssertTrue(pollUntil(timeout: 30) { try !sentinel.master(name: self.masterName).isFailoverInProgress })
        let master = try sentinel.master(name: masterName)
        XCTAssertEqual(master.port, cluster.replica.port)
        XCTAssertTrue(master.flags.contains("master"))
    }

    func testAuthenticatedSentinel() throws {
        let master = try startRedisServer()
        let password = "pw-Sent-4411"
        let sentinel = try startRedisSentinel(monitoring: master.address, config: ["requirepass \(password)"])

        let client = try SentinelClient.connect(to: sentinel.endpoint, credentials: RedisCredentials(password: password), timeout: 5)
        defer { client.close() }
        try client.ping()
        XCTAssertEqual(try client.masterAddress(name: masterName), master.address)

        XCTAssertThrowsError(try SentinelClient.connect(to: sentinel.endpoint, credentials: RedisCredentials(password: "nope-991"), timeout: 5)) { error in
            guard case RedisError.authenticationFailed = error else { return XCTFail("\(error)") }
            XCTAssertFalse("\(error)".contains("nope-991"))
        }
    }

    func testFieldAccessorsReadMissingOrMalformedAsNil() {
        let master = SentinelMaster(fields: [
            "name": "m", "port": "x", "quorum": "2", "flags": "master,s_down,failover_in_progress",
            "failover-state": "wait_promotion", "num-slaves": "",
        ])
        XCTAssertNil(master.port)
        XCTAssertNil(master.numReplicas)
        XCTAssertNil(master.numOtherSentinels)
        XCTAssertEqual(master.quorum, 2)
        XCTAssertEqual(master.flags, ["master", "s_down", "failover_in_progress"])
        XCTAssertTrue(master.isDown)
        XCTAssertEqual(master.failoverState, "wait_promotion")
        XCTAssertTrue(master.isFailoverInProgress)
        XCTAssertFalse(SentinelMaster(fields: ["failover-state": "none"]).isFailoverInProgress)
        XCTAssertEqual(SentinelMaster(fields: [:]).flags, [])
    }

    func testASentinelDoubtsAMasterItFlagsDownOrHasNotHeardFromForHalfItsDownAfter() {
        func master(_ fields: [String: String]) -> SentinelMaster { SentinelMaster(fields: fields) }
        XCTAssertTrue(master(["flags": "master,s_down", "last-ok-ping-reply": "10", "down-after-milliseconds": "5000"]).doubtsMaster)
        XCTAssertTrue(master(["flags": "master", "last-ok-ping-reply": "2500", "down-after-milliseconds": "5000"]).doubtsMaster)
        XCTAssertFalse(master(["flags": "master", "last-ok-ping-reply": "2499", "down-after-milliseconds": "5000"]).doubtsMaster)
        XCTAssertFalse(master(["flags": "master", "last-ok-ping-reply": "x", "down-after-milliseconds": "5000"]).doubtsMaster)
        XCTAssertFalse(master(["flags": "master"]).doubtsMaster)
    }
}
