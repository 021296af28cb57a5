import XCTest
@testable import RedisAutopilot

/// onStart and the role loop it shares with startRedis, run in-process on
/// the fakes, one path each.
final class OnStartHookTests: XCTestCase {
    private let other = try! NodeAddress(host: "10.0.0.2", port: 6379)
    private let third = try! NodeAddress(host: "10.0.0.3", port: 6379)
    private let otherSentinel = try! NodeAddress(host: "10.0.0.2", port: 26379)

    func testAPassingMasterMakesThisNodeItsReplica() throws {
        let world = try FakeWorld()
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .master
        world.cluster.passingInstances["redis-replica"] = [third]
        try world.onStart().run()
        XCTAssertTrue(world.file(world.settings.paths.redisConf).contains("replicaof \"10.0.0.2\" 6379"))
        let sentinelConf = world.file(world.settings.paths.sentinelConf)
        XCTAssertTrue(sentinelConf.contains("sentinel monitor \"mymaster\" \"10.0.0.2\" 6379 2"), sentinelConf)
        XCTAssertTrue(sentinelConf.contains("known-replica \"mymaster\" \"10.0.0.3\" 6379"), sentinelConf)
        XCTAssertTrue(sentinelConf.contains("known-replica \"mymaster\" \"10.0.0.1\" 6379"), sentinelConf)
        XCTAssertTrue(world.cluster.sessions.isEmpty, "a replica takes no lock")
        XCTAssertEqual(world.restores, 0)
    }

    func testAnEmptyClusterIsBootstrappedUnderTheLock() throws {
        let world = try FakeWorld()
        try world.onStart().run()
        XCTAssertFalse(world.file(world.settings.paths.redisConf).contains("replicaof"))
        XCTAssertTrue(world.file(world.settings.paths.sentinelConf).contains("sentinel monitor \"mymaster\" \"10.0.0.1\" 6379 2"))
        let session = try XCTUnwrap(world.bootstrapLock.session)
        XCTAssertEqual(world.cluster.locks[ClusterNames.bootstrapLockKey], session, "held until health releases it")
        XCTAssertEqual(world.restores, 1)
        XCTAssertTrue(world.lines.contain("taking the bootstrap lock"))
    }

    func testABusyLockEndsInATimeoutMeasuredOnTheClock() throws {
        let world = try FakeWorld(environment: ["MASTER_WAIT_TIMEOUT": "10s"])
        world.cluster.sessions.insert("theirs")
        world.cluster.locks[ClusterNames.bootstrapLockKey] = "theirs"
        XCTAssertThrowsError(try world.onStart().run()) { error in
            guard case LifecycleError.bootstrapTimedOut(let waited, let reason)? = error as? LifecycleError else { return XCTFail("\(error)") }
            XCTAssertEqual(waited, 10 + 60 + 5 + 10)
            XCTAssertTrue(reason.contains("taking the bootstrap lock"), reason)
        }
        XCTAssertEqual(world.clock.now, .seconds(85))
        XCTAssertTrue(world.lines.contain("held by another node or in its lock-delay"))
    }

    func testTheLockHolderIsFollowedOnceItAnswersAsMaster() throws {
        let world = try FakeWorld()
        world.cluster.sessions.insert("theirs")
        world.cluster.locks[ClusterNames.bootstrapLockKey] = "theirs"
        world.cluster.lockValues[ClusterNames.bootstrapLockKey] = other.description
        world.clock.onSleep = { [unowned world, other] now in if now >= .seconds(1) { world.node.peerRoles[other] = .master } }
        try world.onStart().run()
        XCTAssertTrue(world.file(world.settings.paths.redisConf).contains("replicaof \"10.0.0.2\" 6379"))
        XCTAssertGreaterThanOrEqual(world.clock.now, .seconds(1))
        XCTAssertLessThanOrEqual(world.clock.now, .milliseconds(1200), "looked again every 0.2 s")
        XCTAssertTrue(world.lines.contain("holds the bootstrap lock but does not answer as master yet"))
    }

    func testMasterWaitTimeoutIsSecondsNotObservations() throws {
        let world = try FakeWorld(environment: ["MASTER_WAIT_TIMEOUT": "20s"])
        world.cluster.registeredInstances["redis"] = [other]
        var firstAcquire: Duration?
        world.clock.onSleep = { [unowned world] now in
            if firstAcquire == nil, world.cluster.calls.contains("acquire \(ClusterNames.bootstrapLockKey)") { firstAcquire = now }
        }
        // Each observation of a silent sentinel takes up to 2 s in a real run;
        // here every pass is a 1 s pause, so counting passes would agree with
        // the clock only by accident: the clock alone decides.
        let world2 = world
        world2.cluster.passingInstances["redis-sentinel"] = [otherSentinel]
        try world.onStart().run()
        let acquired = try XCTUnwrap(firstAcquire)
        XCTAssertGreaterThanOrEqual(acquired, .seconds(20))
        XCTAssertLessThan(acquired, .seconds(22))
        XCTAssertTrue(world.lines.contain("did not pass within MASTER_WAIT_TIMEOUT"))
    }

    func testADatalessMasterAsksSentinelToPromoteAReplica() throws {
        let world = try FakeWorld()
        world.cluster.passingInstances["redis-sentinel"] = [otherSentinel]
        world.cluster.liveInstances["redis-replica"] = [other]
        world.node.peerRoles[other] = .replica
        world.node.sentinelAnswers[otherSentinel] = SentinelAnswer(master: world.me, failingOver: false)
        world.node.onFailover = { [unowned world, other] _ in
            world.node.sentinelAnswers[world.node.failoverRequests.last!!] = SentinelAnswer(master: other, failingOver: false)
        }
        try world.onStart().run()
        XCTAssertEqual(world.node.failoverRequests, [otherSentinel])
        XCTAssertTrue(world.file(world.settings.paths.redisConf).contains("replicaof \"10.0.0.2\" 6379"))
    }

    func testARefusedFailoverIsAskedAgainAfterASecond() throws {
        let world = try FakeWorld(environment: ["MASTER_WAIT_TIMEOUT": "5s"])
        world.cluster.passingInstances["redis-sentinel"] = [otherSentinel]
        world.cluster.liveInstances["redis-replica"] = [other]
        world.node.peerRoles[other] = .replica
        world.node.sentinelAnswers[otherSentinel] = SentinelAnswer(master: world.me, failingOver: false)
        world.node.refuseFailover = true
        world.clock.onSleep = { [unowned world] now in if now >= .seconds(3) { world.node.refuseFailover = false } }
        world.node.onFailover = { [unowned world, other, otherSentinel] _ in
            world.node.sentinelAnswers[otherSentinel] = SentinelAnswer(master: other, failingOver: false)
        }
        try world.onStart().run()
        XCTAssertGreaterThanOrEqual(world.clock.now, .seconds(3))
        XCTAssertLessThan(world.clock.now, .milliseconds(3100))
        XCTAssertTrue(world.lines.contain("refused SENTINEL FAILOVER"))
        XCTAssertTrue(world.file(world.settings.paths.redisConf).contains("replicaof \"10.0.0.2\" 6379"))
    }

    func testNoLeaderEndsAfterCONSUL_LEADER_TIMEOUT() throws {
        let world = try FakeWorld(environment: ["CONSUL_LEADER_TIMEOUT": "30s"])
        world.cluster.leaderAnswer = nil
        XCTAssertThrowsError(try world.onStart().run()) { error in
            guard case LifecycleError.noConsulLeader(30)? = error as? LifecycleError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(world.clock.now, .seconds(30))
        XCTAssertFalse(world.cluster.calls.contains { $0.hasPrefix("passing") }, "no role is chosen without a leader")
    }

    func testAnUnusableQuorumKeyStopsANewSentinelConf() throws {
        let world = try FakeWorld()
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .master
        world.cluster.settings[ClusterNames.quorumKey] = "two"
        XCTAssertThrowsError(try world.onStart().run()) { error in
            guard case LifecycleError.badClusterSetting(ClusterNames.quorumKey, "two", _)? = error as? LifecycleError else {
                return XCTFail("\(error)")
            }
        }
    }

    func testAPassingMasterThatDoesNotAnswerAsMasterIsNotFollowed() throws {
        let world = try FakeWorld(environment: ["MASTER_WAIT_TIMEOUT": "5s"])
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .replica
        try world.onStart().run()
        XCTAssertFalse(world.file(world.settings.paths.redisConf).contains("replicaof"), "a stale catalog names no master")
        XCTAssertEqual(world.restores, 1)
        XCTAssertGreaterThanOrEqual(world.clock.now, .seconds(5), "it still waited MASTER_WAIT_TIMEOUT for the registered one")
    }

    func testLiveReplicasThatDoNotAnswerAsReplicasDoNotStopTheRestore() throws {
        let world = try FakeWorld()
        world.cluster.liveInstances["redis-replica"] = [other, third]
        world.node.peerRoles[third] = .master
        try world.onStart().run()
        XCTAssertFalse(world.file(world.settings.paths.redisConf).contains("replicaof"))
        XCTAssertEqual(world.restores, 1)
    }

    func testRoleRegistrationsFromBeforeThisStartAreDropped() throws {
        let world = try FakeWorld()
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .master
        world.cluster.services["redis-10.0.0.1-6379"] = LocalService(id: "redis-10.0.0.1-6379", name: "redis", address: world.me)
        world.cluster.services["redis-sentinel-x"] = LocalService(id: "redis-sentinel-x", name: "redis-sentinel", address: nil)
        try world.onStart().run()
        XCTAssertEqual(world.cluster.services.keys.sorted(), ["redis-sentinel-x"])
    }

    func testARestartedMasterTheSentinelsDoubtWaitsForTheirVerdict() throws {
        let world = try FakeWorld()
        try FileManager.default.createDirectory(atPath: world.settings.paths.dataDir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: world.settings.paths.dataDir + "/dump.rdb", contents: Data("REDIS0011".utf8))
        world.cluster.passingInstances["redis-sentinel"] = [otherSentinel]
        world.cluster.liveInstances["redis-replica"] = [other]
        world.node.peerRoles[other] = .replica
        world.node.localSentinel = SentinelAnswer(master: world.me, failingOver: false, doubtsMaster: true)
        world.node.sentinelAnswers[otherSentinel] = SentinelAnswer(master: world.me, failingOver: false)
        world.clock.onSleep = { [unowned world, other, otherSentinel] now in
            guard now >= .seconds(2) else { return }
            world.node.localSentinel = SentinelAnswer(master: other, failingOver: false)
            world.node.sentinelAnswers[otherSentinel] = SentinelAnswer(master: other, failingOver: false)
        }
        let (outcome, _) = try world.chooser("startRedis", includeOwnSentinel: true).choose()
        XCTAssertEqual(outcome, .replica(of: other), "the failover the doubt announced happened")
        XCTAssertGreaterThanOrEqual(world.clock.now, .seconds(2))
        XCTAssertLessThanOrEqual(world.clock.now, .milliseconds(2200), "looked again every 0.2 s")
        XCTAssertTrue(world.lines.contain("waiting for the sentinels' verdict"))
    }

    func testARestartFollowsTheMasterItsOwnSentinelNames() throws {
        let world = try FakeWorld()
        world.node.localSentinel = SentinelAnswer(master: other, failingOver: false)
        let (outcome, _) = try world.chooser("startRedis", includeOwnSentinel: true).choose()
        XCTAssertEqual(outcome, .replica(of: other))
    }
}
