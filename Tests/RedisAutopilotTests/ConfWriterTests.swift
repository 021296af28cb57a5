import XCTest
@testable import RedisAutopilot

final class ConfWriterTests: XCTestCase {
    let me = NodeAddress(host: "10.0.0.1", port: 6379)
    let master = NodeAddress(host: "10.0.0.2", port: 6379)

    private func redisInput(replicaOf: NodeAddress?, password: String? = nil, username: String? = nil,
                            minReplicas: Int = 0) -> RedisConfInput {
        RedisConfInput(port: 6379, bind: ["0.0.0.0"], dataDirectory: "/data", announce: me, replicaOf: replicaOf,
                       password: password, username: username, minReplicasToWrite: minReplicas,
                       minReplicasMaxLagSeconds: 10)
    }

    private func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    func testReplicaConfig() {
        let text = RedisConfWriter.render(redisInput(replicaOf: master))
        let l = lines(text)
        XCTAssertTrue(l.contains("replicaof 10.0.0.2 6379"))
        XCTAssertTrue(l.contains("replica-announce-ip 10.0.0.1"))
        XCTAssertTrue(l.contains("replica-announce-port 6379"))
        XCTAssertTrue(l.contains("appendonly yes"))
        XCTAssertTrue(l.contains("protected-mode no"))
        XCTAssertFalse(text.contains("slaveof"))
        XCTAssertFalse(text.contains("requirepass"))
    }

    func testMinReplicasToWrite() {
        let l = lines(RedisConfWriter.render(redisInput(replicaOf: master, minReplicas: 1)))
        XCTAssertTrue(l.contains("min-replicas-to-write 1"))
        XCTAssertTrue(l.contains("min-replicas-max-lag 10"))
    }

    func testMasterHasNoReplicationLine() {
        let text = RedisConfWriter.render(redisInput(replicaOf: nil))
        XCTAssertFalse(text.contains("replicaof"))
        XCTAssertFalse(text.contains("min-replicas"))
    }

    func testPasswordIsQuotedAndProtectedModeOn() {
        let text = RedisConfWriter.render(redisInput(replicaOf: master, password: "p a\"ss#\\w", username: "app"))
        let l = lines(text)
        XCTAssertTrue(l.contains(#"requirepass "p a\"ss#\\w""#), text)
        XCTAssertTrue(l.contains(#"masterauth "p a\"ss#\\w""#), text)
        XCTAssertTrue(l.contains(#"masteruser "app""#), text)
        XCTAssertTrue(l.contains("protected-mode yes"))
    }

    func testQuotingEscapesControlAndNonASCIIBytes() {
        XCTAssertEqual(RedisConfQuoting.quote("a\nb\u{1}é"), #""a\nb\x01\xc3\xa9""#)
    }

    private func sentinelInput(myID: String? = nil, password: String? = nil) -> SentinelConfInput {
        SentinelConfInput(
            port: 26379, bind: ["0.0.0.0"], workingDirectory: "/tmp", announce: NodeAddress(host: "10.0.0.1", port: 26379),
            masterName: "mymaster", master: master, quorum: 2, downAfterMilliseconds: 5000, parallelSyncs: 1,
            failoverTimeoutMilliseconds: 30000, password: password, username: "app",
            knownReplicas: [me, master, NodeAddress(host: "10.0.0.3", port: 6379)],
            knownSentinels: [
                KnownSentinel(address: NodeAddress(host: "10.0.0.2", port: 26379), id: String(repeating: "b", count: 40)),
                KnownSentinel(address: NodeAddress(host: "10.0.0.1", port: 26379), id: String(repeating: "a", count: 40)),
            ],
            myID: myID, clientReconfigScript: "/usr/local/bin/redis-manage-failover")
    }

    func testSentinelConfListsMonitorBeforeOptionsAndSkipsItself() {
        let text = SentinelConfWriter.render(sentinelInput(password: "s3cret"))
        let l = lines(text)
        let monitor = l.firstIndex(of: "sentinel monitor mymaster 10.0.0.2 6379 2")
        XCTAssertNotNil(monitor)
        let downAfter = l.firstIndex(of: "sentinel down-after-milliseconds mymaster 5000")
        XCTAssertNotNil(downAfter)
        XCTAssertLessThan(monitor!, downAfter!)
        XCTAssertTrue(l.contains("sentinel failover-timeout mymaster 30000"))
        XCTAssertTrue(l.contains(#"sentinel auth-pass mymaster "s3cret""#))
        XCTAssertTrue(l.contains(#"sentinel auth-user mymaster "app""#))
        XCTAssertTrue(l.contains("sentinel announce-ip 10.0.0.1"))
        XCTAssertTrue(l.contains("sentinel client-reconfig-script mymaster /usr/local/bin/redis-manage-failover"))
        // The master is not its own replica, and this sentinel is not its own peer.
        XCTAssertEqual(l.filter { $0.hasPrefix("sentinel known-replica") }, [
            "sentinel known-replica mymaster 10.0.0.1 6379", "sentinel known-replica mymaster 10.0.0.3 6379",
        ])
        XCTAssertEqual(l.filter { $0.hasPrefix("sentinel known-sentinel") }, [
            "sentinel known-sentinel mymaster 10.0.0.2 26379 \(String(repeating: "b", count: 40))",
        ])
        XCTAssertFalse(text.contains("myid"))
    }

    func testSentinelKeepsItsOwnID() {
        let id = String(repeating: "c", count: 40)
        let text = SentinelConfWriter.render(sentinelInput(myID: id, password: "x"))
        XCTAssertTrue(lines(text).contains("sentinel myid \(id)"))
    }

    func testExistingConfIsParsedTolerantly() {
        let id = String(repeating: "d", count: 40)
        let text = "port 26379\nsentinel myid \(id)\r\nsentinel monitor other 1.2.3.4 1 2\nsentinel monitor mymaster 10.0.0.2 6379 2\n"
        XCTAssertEqual(ExistingSentinelConf.parse(text, masterName: "mymaster"),
                       ExistingSentinelConf(master: master, myID: id))
        let garbage = "sentinel\nsentinel monitor mymaster host notaport 2\nsentinel myid short\n\u{0}\u{ff}"
        XCTAssertEqual(ExistingSentinelConf.parse(garbage, masterName: "mymaster"), ExistingSentinelConf(master: nil, myID: nil))
    }

    func testPolicyKeepsAFileThatFollowsTheMaster() {
        let existing = ExistingSentinelConf(master: master, myID: "x")
        guard case .keep = SentinelConfPolicy.choose(existing: existing, clusterMaster: master) else {
            return XCTFail("should keep")
        }
    }

    func testPolicyRewritesAFileFollowingAnOldMasterButKeepsTheID() {
        let id = String(repeating: "e", count: 40)
        let choice = SentinelConfPolicy.choose(existing: ExistingSentinelConf(master: me, myID: id), clusterMaster: master)
        guard case let .write(myID, reason) = choice else { return XCTFail("should rewrite") }
        XCTAssertEqual(myID, id)
        XCTAssertTrue(reason.contains("10.0.0.1:6379") && reason.contains("10.0.0.2:6379"), reason)
    }

    func testPolicyWritesWhenThereIsNoFile() {
        guard case .write(nil, _) = SentinelConfPolicy.choose(existing: nil, clusterMaster: master) else {
            return XCTFail("should write")
        }
    }
}
