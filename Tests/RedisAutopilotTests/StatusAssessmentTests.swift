import XCTest
@testable import RedisAutopilot

final class StatusAssessmentTests: XCTestCase {
    let m = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let r2 = try! NodeAddress(host: "10.0.0.2", port: 6379)
    let r3 = try! NodeAddress(host: "10.0.0.3", port: 6379)
    let s1 = try! NodeAddress(host: "10.0.0.1", port: 26379)
    let s2 = try! NodeAddress(host: "10.0.0.2", port: 26379)
    let s3 = try! NodeAddress(host: "10.0.0.3", port: 26379)
    let now: Int64 = 1_800_000_000

    func info(_ text: String) -> RedisInfo {
        try! RedisInfo(parsing: "# Replication\r\n" + text)
    }

    func masterInfo(offset: Int64 = 1000) -> RedisInfo {
        info("role:master\r\nconnected_slaves:2\r\nslave0:ip=10.0.0.2,port=6379,state=online,offset=\(offset - 40),lag=0\r\n"
            + "slave1:ip=10.0.0.3,port=6379,state=online,offset=\(offset),lag=1\r\nmaster_repl_offset:\(offset)\r\n")
    }

    func replicaInfo(link: String = "up", master: String = "10.0.0.1") -> RedisInfo {
        info("role:slave\r\nmaster_host:\(master)\r\nmaster_port:6379\r\nmaster_link_status:\(link)\r\nmaster_last_io_seconds_ago:1\r\n")
    }

    func sentinel(_ address: NodeAddress, names master: NodeAddress? = nil, flags: String = "master", replicaFlags: String = "slave",
                  quorumOK: Bool = true) -> SentinelReading {
        let named = master ?? m
        return SentinelReading(
            address: address, masterAddress: named,
            master: SentinelMaster(fields: ["name": "mymaster", "flags": flags, "quorum": "2"]),
            replicas: [r2, r3].map { SentinelReplica(fields: ["ip": $0.host, "port": "\($0.port)", "flags": replicaFlags, "slave-priority": "100"]) },
            peers: [s1, s2, s3].filter { $0 != address }.map { SentinelPeer(fields: ["ip": $0.host, "port": "\($0.port)", "flags": "sentinel"]) },
            quorum: SentinelQuorumCheck(reachable: quorumOK, message: quorumOK ? "OK 3 usable Sentinels" : "NOQUORUM"))
    }

    func healthy() -> StatusSnapshot {
        StatusSnapshot(
            consul: ConsulReading(
                instances: [ConsulInstance(service: "redis", id: "redis-1", consulNode: "n1", address: m, status: .passing),
                            ConsulInstance(service: "redis-replica", id: "rr-2", consulNode: "n2", address: r2, status: .passing),
                            ConsulInstance(service: "redis-replica", id: "rr-3", consulNode: "n3", address: r3, status: .passing)]
                    + [s1, s2, s3].map { ConsulInstance(service: "redis-sentinel", id: "s-\($0.host)", consulNode: "n", address: $0, status: .passing) },
                lastBackup: BackupReading(name: "dump-20270115080000.rdb.gz", savedAt: now - 3600, node: "10.0.0.2:6379")),
            sentinels: [sentinel(s1), sentinel(s2), sentinel(s3)],
            redis: [RedisReading(address: m, info: masterInfo()), RedisReading(address: r2, info: replicaInfo()),
                    RedisReading(address: r3, info: replicaInfo())],
            now: now, backupTTL: 86400)
    }

    func row(_ status: ClusterStatus, _ address: NodeAddress) -> NodeStatusRow {
        status.nodes.first { $0.address == address.description }!
    }

    func problems(_ status: ClusterStatus) -> String {
        (status.cluster.problems + status.nodes.flatMap(\.problems) + status.sentinels.flatMap(\.problems)).joined(separator: " | ")
    }

    func testHealthyClusterHasRowsLagAndNoProblem() {
        let status = StatusAssessment.assess(healthy())
        XCTAssertTrue(status.healthy, problems(status))
        XCTAssertEqual(status.cluster.master, "10.0.0.1:6379")
        XCTAssertEqual(status.cluster.sentinelsReachable, 3)
        XCTAssertEqual(status.cluster.sentinelsKnown, 3)
        XCTAssertEqual(status.cluster.quorum, 2)
        XCTAssertTrue(status.cluster.failoverPossible)
        XCTAssertEqual(status.cluster.lastBackup, BackupStatus(name: "dump-20270115080000.rdb.gz", ageSeconds: 3600, node: "10.0.0.2:6379", stale: false))
        XCTAssertEqual(row(status, m).role, "master")
        XCTAssertEqual(row(status, m).sentinel, "master")
        XCTAssertEqual(row(status, m).consul, ["redis: passing"])
        let replica = row(status, r2)
        XCTAssertEqual([replica.role, replica.sentinel, replica.link], ["replica", "replica", "up"])
        XCTAssertEqual(replica.lagBytes, 40)
        XCTAssertEqual(replica.lagSeconds, 0)
        XCTAssertEqual(row(status, r3).lagSeconds, 1)
    }

    func testReplicaThatDoesNotAnswerIsFlaggedAndTheRestShown() {
        var seen = healthy()
        seen.redis[1] = RedisReading(address: r2, error: "no answer within 2s")
        let status = StatusAssessment.assess(seen)
        XCTAssertFalse(status.healthy)
        XCTAssertEqual(row(status, r2).role, "no answer")
        XCTAssertTrue(row(status, r2).problems.contains { $0.contains("no answer within 2s") })
        XCTAssertEqual(row(status, r3).problems, [])
    }

    func testReplicaLinkDownAndWrongMasterAreFlagged() {
        var seen = healthy()
        seen.redis[1] = RedisReading(address: r2, info: replicaInfo(link: "down"))
        seen.redis[2] = RedisReading(address: r3, info: replicaInfo(master: "10.0.0.9"))
        let status = StatusAssessment.assess(seen)
        XCTAssertEqual(row(status, r2).link, "down")
        XCTAssertTrue(row(status, r2).problems.contains("replication link down"))
        XCTAssertTrue(row(status, r3).problems.contains { $0.contains("replicates 10.0.0.9:6379") })
    }

    func testTwoMastersAreFlagged() {
        var seen = healthy()
        seen.redis[2] = RedisReading(address: r3, info: info("role:master\r\nmaster_repl_offset:5\r\n"))
        let status = StatusAssessment.assess(seen)
        XCTAssertTrue(status.cluster.problems.contains { $0.hasPrefix("two masters") }, problems(status))
        XCTAssertTrue(row(status, r3).problems.contains { $0.contains("answers as master while 10.0.0.1:6379") })
    }

    func testConsulAndSentinelDisagreeing() {
        var seen = healthy()
        seen.consul.instances[0] = ConsulInstance(service: "redis", id: "redis-1", consulNode: "n1", address: m, status: .critical)
        seen.consul.instances[1] = ConsulInstance(service: "redis", id: "redis-2", consulNode: "n2", address: r2, status: .passing)
        let status = StatusAssessment.assess(seen)
        XCTAssertTrue(status.cluster.problems.contains { $0.contains("Consul and Sentinel disagree") }, problems(status))
        XCTAssertTrue(row(status, m).problems.contains { $0.contains("Consul does not list it as passing redis") })
        XCTAssertTrue(row(status, r2).problems.contains { $0.contains("Consul lists it as the passing redis") })
        XCTAssertTrue(row(status, m).problems.contains("Consul's redis check is critical"))
    }

    func testSentinelsDisagreeingOrDownOrWithoutQuorum() {
        var seen = healthy()
        seen.sentinels[2] = sentinel(s3, names: r2)
        var status = StatusAssessment.assess(seen)
        XCTAssertEqual(status.cluster.master, "10.0.0.1:6379")
        XCTAssertTrue(status.cluster.problems.contains { $0.hasPrefix("sentinels disagree") }, problems(status))
        XCTAssertTrue(status.sentinels[2].problems.contains { $0.contains("names 10.0.0.2:6379") })

        seen = healthy()
        seen.sentinels[1] = SentinelReading(address: s2, error: "connection refused")
        seen.sentinels[2] = SentinelReading(address: s3, error: "connection refused")
        status = StatusAssessment.assess(seen)
        XCTAssertEqual(status.cluster.sentinelsReachable, 1)
        XCTAssertFalse(status.cluster.failoverPossible)
        XCTAssertFalse(status.sentinels[1].reachable)

        seen = healthy()
        seen.sentinels = seen.sentinels.map { sentinel($0.address, quorumOK: false) }
        XCTAssertTrue(StatusAssessment.assess(seen).cluster.problems.contains { $0.contains("CKQUORUM") })
    }

    func testSentinelDownFlagsAndRunningFailover() {
        var seen = healthy()
        seen.sentinels = [s1, s2, s3].map { sentinel($0, flags: "master,failover_in_progress", replicaFlags: "slave,s_down") }
        let status = StatusAssessment.assess(seen)
        XCTAssertTrue(status.cluster.failoverInProgress)
        XCTAssertTrue(status.cluster.problems.contains("a failover is in progress"))
        XCTAssertEqual(row(status, r2).sentinel, "replica s_down")
        XCTAssertTrue(row(status, r2).problems.contains { $0.contains("Sentinel flags it") })
    }

    func testDownFlagsOfTheOldMasterAreNotPinnedOnThePromotedOne() {
        var seen = healthy()
        // Mid-failover: Sentinel names m, but SENTINEL MASTER still describes r2, the old master, down.
        seen.sentinels[0].master = SentinelMaster(fields: ["ip": r2.host, "port": "\(r2.port)", "flags": "master,o_down,s_down", "quorum": "2"])
        XCTAssertEqual(row(StatusAssessment.assess(seen), m).sentinel, "master")
        seen.sentinels[0].master = SentinelMaster(fields: ["ip": m.host, "port": "\(m.port)", "flags": "master,s_down", "quorum": "2"])
        XCTAssertEqual(row(StatusAssessment.assess(seen), m).sentinel, "master s_down")
    }

    func testConsulUnreachableKeepsTheRedisAndSentinelPart() {
        var seen = healthy()
        seen.consul = ConsulReading(error: "connection refused")
        let status = StatusAssessment.assess(seen)
        XCTAssertEqual(status.cluster.consul, "unreachable: connection refused")
        XCTAssertEqual(status.cluster.problems.first, "Consul unreachable: connection refused")
        XCTAssertEqual(status.nodes.count, 3)
        XCTAssertEqual(row(status, r2).problems, [], "no Consul finding is made up without Consul")
        XCTAssertEqual(status.cluster.master, "10.0.0.1:6379")
    }

    func testStaleBackupAndLockHolder() {
        var seen = healthy()
        seen.consul.lastBackup = BackupReading(name: "dump-1.rdb.gz", savedAt: now - 2 * 86400 - 1, node: nil)
        seen.consul.lockHolder = "10.0.0.1:6379"
        let status = StatusAssessment.assess(seen)
        XCTAssertEqual(status.cluster.lastBackup?.stale, true)
        XCTAssertEqual(status.cluster.bootstrapLock, "10.0.0.1:6379")
        XCTAssertTrue(status.cluster.problems.contains { $0.contains("dump-1.rdb.gz is 2d00h old") }, problems(status))
    }

    func testUnregisteredNodeAndTooFewSentinels() {
        var seen = healthy()
        seen.consul.instances.removeAll { $0.address == r3 }
        XCTAssertTrue(row(StatusAssessment.assess(seen), r3).problems.contains("not registered in Consul"))
        seen = healthy()
        seen.sentinels = [SentinelReading(address: s1, masterAddress: m, master: SentinelMaster(fields: ["flags": "master", "quorum": "1"]),
                                          replicas: [], peers: [], quorum: SentinelQuorumCheck(reachable: true, message: "OK"))]
        seen.consul.instances.removeAll { $0.service == "redis-sentinel" && $0.address != s1 }
        let status = StatusAssessment.assess(seen)
        XCTAssertFalse(status.cluster.failoverPossible)
        XCTAssertTrue(status.cluster.problems.contains { $0.contains("only 1 sentinel(s)") }, problems(status))
    }

    func testPasswordGoesOnlyWhereConsulOrTheLocalSentinelPoints() {
        let rogue = try! NodeAddress(host: "192.0.2.66", port: 6379)
        var local = sentinel(s1)
        let consul = ConsulReading(instances: [ConsulInstance(service: "redis", id: "redis-1", consulNode: "n1", address: m, status: .passing),
                                               ConsulInstance(service: "redis-sentinel", id: "s", consulNode: "n1", address: s2, status: .passing)])
        XCTAssertEqual(StatusObserver.trusted(consul: consul, localSentinel: local), [m, r2, r3])
        XCTAssertEqual(StatusObserver.trusted(consul: ConsulReading(error: "down"), localSentinel: nil), [])
        local.masterAddress = rogue
        XCTAssertTrue(StatusObserver.trusted(consul: ConsulReading(error: "down"), localSentinel: local).contains(rogue),
                      "this node's own Sentinel is trusted as the hooks trust it")
    }

    // MARK: rendering

    func testTableIsPlainWithoutColourAndMarksProblems() {
        var seen = healthy()
        seen.redis[1] = RedisReading(address: r2, info: replicaInfo(link: "down"))
        let status = StatusAssessment.assess(seen)
        let plain = StatusTable.render(status, colour: false)
        XCTAssertFalse(plain.contains("\u{1B}["))
        XCTAssertTrue(plain.contains("master:     10.0.0.1:6379"), plain)
        XCTAssertTrue(plain.contains("sentinels:  3 of 3 answer, quorum 2"), plain)
        XCTAssertTrue(plain.contains("backup:     dump-20270115080000.rdb.gz (1h00m ago, from 10.0.0.2:6379)"), plain)
        let line = plain.split(separator: "\n").first { $0.hasPrefix("10.0.0.2:6379") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains("replication link down"), plain)
        XCTAssertTrue(plain.hasSuffix("status: degraded (1 problem)"), plain)
        XCTAssertTrue(StatusTable.render(status, colour: true).contains("\u{1B}[31m"))
        XCTAssertTrue(StatusTable.render(StatusAssessment.assess(healthy()), colour: false).hasSuffix("status: healthy"))
    }

    func testTableColumnsLineUp() {
        let plain = StatusTable.render(StatusAssessment.assess(healthy()), colour: false)
        let lines = plain.split(separator: "\n").filter { $0.hasPrefix("NODE") || $0.split(separator: " ").first?.hasSuffix(":6379") == true }
        // Where the second column starts on each line.
        let columns = Set(lines.map { line in
            line.firstIndex(of: " ").flatMap { space in line[space...].firstIndex { $0 != " " } }?.utf16Offset(in: line)
        })
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(columns.count, 1, plain)
    }

    func testJSONHasTheSameContent() throws {
        let status = StatusAssessment.assess(healthy())
        let text = StatusJSON.render(status)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(document["healthy"] as? Bool, true)
        let cluster = try XCTUnwrap(document["cluster"] as? [String: Any])
        XCTAssertEqual(cluster["master"] as? String, "10.0.0.1:6379")
        XCTAssertEqual(cluster["sentinels_reachable"] as? Int, 3)
        XCTAssertEqual((cluster["last_backup"] as? [String: Any])?["age_seconds"] as? Int, 3600)
        let nodes = try XCTUnwrap(document["nodes"] as? [[String: Any]])
        XCTAssertEqual(nodes.map { $0["address"] as? String }, ["10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"])
        XCTAssertEqual(nodes[1]["lag_bytes"] as? Int, 40)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        XCTAssertEqual(try decoder.decode(ClusterStatus.self, from: Data(text.utf8)), status)
    }

    func testAgeText() {
        XCTAssertEqual(AgeText.format(seconds: 45), "45s")
        XCTAssertEqual(AgeText.format(seconds: 720), "12m")
        XCTAssertEqual(AgeText.format(seconds: 3 * 3600 + 300), "3h05m")
        XCTAssertEqual(AgeText.format(seconds: 2 * 86400 + 4 * 3600), "2d04h")
    }
}
