import XCTest
@testable import RedisAutopilot

/// health, failover and healthSentinel, run in-process on the fakes.
final class HealthHookTests: XCTestCase {
    private let other = try! NodeAddress(host: "10.0.0.2", port: 6379)

    func testAMasterIsRegisteredAndPassed() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.masterInfo(replicas: [(other, 100)])
        XCTAssertTrue(try world.health().run())
        XCTAssertEqual(world.cluster.services[world.identity.serviceID(.master)]?.address, world.me)
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.master)]?.status, .passing)
    }

    func testEveryReadComesBeforeTheFirstWrite() throws {
        let world = try FakeWorld()
        XCTAssertTrue(try world.bootstrapLock.acquire())
        world.cluster.passingInstances["redis"] = [world.me, other]
        world.node.info = FakeNode.masterInfo(replicas: [(other, 100)])
        let before = world.cluster.calls.count
        XCTAssertTrue(try world.health().run())
        let calls = Array(world.cluster.calls.dropFirst(before))
        let writes = ["register", "deregister", "check", "renew", "release"]
        let firstWrite = try XCTUnwrap(calls.firstIndex { call in writes.contains { call.hasPrefix($0) } })
        XCTAssertFalse(calls[firstWrite...].contains { call in !writes.contains { call.hasPrefix($0) } }, "\(calls)")
        XCTAssertEqual(calls.last, "release \(ClusterNames.bootstrapLockKey)")
    }

    func testARedisThatDoesNotAnswerFailsItsCheck() throws {
        let world = try FakeWorld()
        try world.cluster.register(ServiceRegistration(
            id: world.identity.serviceID(.replica), name: "redis-replica", address: world.me, ttl: .seconds(10), reapAfter: .seconds(60)))
        XCTAssertFalse(try world.health().run())
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.replica)]?.status, .critical)
        XCTAssertTrue(world.lines.all.contains { $0.contains("ERROR") && $0.contains("redis does not answer") })
    }

    func testAReplicaMovesItsRegistration() throws {
        let world = try FakeWorld()
        try world.cluster.register(ServiceRegistration(
            id: world.identity.serviceID(.master), name: "redis", address: world.me, ttl: .seconds(10), reapAfter: .seconds(60)))
        world.node.info = FakeNode.replicaInfo(of: other)
        XCTAssertTrue(try world.health().run())
        XCTAssertNil(world.cluster.services[world.identity.serviceID(.master)])
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.replica)]?.status, .passing)
    }

    func testTheBootstrapLockIsRenewedUntilTheMasterPassesThenReleased() throws {
        let world = try FakeWorld()
        XCTAssertTrue(try world.bootstrapLock.acquire())
        world.node.info = FakeNode.masterInfo()
        XCTAssertTrue(try world.health().run())
        XCTAssertEqual(world.cluster.renewals, 1, "not passing in Consul yet: renewed")
        XCTAssertNotNil(world.cluster.locks[ClusterNames.bootstrapLockKey])
        world.cluster.passingInstances["redis"] = [world.me]
        XCTAssertTrue(try world.health().run())
        XCTAssertNil(world.cluster.locks[ClusterNames.bootstrapLockKey])
        XCTAssertNil(world.bootstrapLock.session)
        XCTAssertTrue(world.lines.contain("releasing the bootstrap lock"))
    }

    func testALostBootstrapSessionIsForgotten() throws {
        let world = try FakeWorld()
        XCTAssertTrue(try world.bootstrapLock.acquire())
        world.cluster.expire(try XCTUnwrap(world.bootstrapLock.session))
        world.node.info = FakeNode.masterInfo()
        XCTAssertTrue(try world.health().run())
        XCTAssertNil(world.bootstrapLock.session)
    }

    func testAnotherPassingMasterHoldsThisOneBack() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.masterInfo()
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .master
        XCTAssertTrue(try world.health().run())
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.master)]?.status, .warning)
    }

    func testAMasterWhoseSentinelIsCutOffFromTheMajorityStopsPassing() throws {
        let world = try FakeWorld()
        let sentinels = try (2...5).map { try NodeAddress(host: "10.0.0.\($0)", port: 26379) }
        world.node.info = FakeNode.masterInfo()
        world.cluster.passingInstances["redis-sentinel"] = sentinels
        world.node.peers = sentinels.enumerated().map { index, address in
            SentinelPeer(fields: ["ip": address.host, "port": String(address.port), "flags": index < 3 ? "s_down,sentinel" : "sentinel"])
        }
        XCTAssertTrue(try world.health().run())
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.master)]?.status, .warning)
        XCTAssertTrue(world.lines.contain("cannot reach 3 of 5 sentinels"))
        world.cluster.passingInstances["redis-sentinel"] = Array(sentinels.suffix(2))
        XCTAssertTrue(try world.health().run(), "sentinels Consul knows dead do not count")
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.master)]?.status, .passing)
    }

    func testAnUnreachableAgentDecidesNothing() throws {
        let world = try FakeWorld()
        world.cluster.unreachable = true
        world.node.info = FakeNode.masterInfo()
        XCTAssertThrowsError(try world.health().run())
        XCTAssertEqual(world.cluster.calls, ["localServices"])
    }

    // MARK: failover

    private func change(from: NodeAddress, to: NodeAddress) -> SentinelSwitch {
        SentinelSwitch(arguments: ["mymaster", "leader", "start", from.host, String(from.port), to.host, String(to.port)])!
    }

    func testTheOldMasterFailsItsCheckAtOnceAndBecomesAReplica() throws {
        let world = try FakeWorld()
        try world.cluster.register(ServiceRegistration(
            id: world.identity.serviceID(.master), name: "redis", address: world.me, ttl: .seconds(10), reapAfter: .seconds(60)))
        world.node.info = FakeNode.replicaInfo(of: other)
        let before = world.cluster.calls.count
        try FailoverHook(health: world.health("failover"), change: change(from: world.me, to: other)).run()
        XCTAssertEqual(world.cluster.calls.dropFirst(before).first, "check \(world.identity.checkID(.master)) critical")
        XCTAssertNil(world.cluster.services[world.identity.serviceID(.master)])
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.replica)]?.status, .passing)
        XCTAssertEqual(world.clock.now, .zero, "nothing held back: one re-sync")
    }

    func testTheNewMasterResyncsUntilTheOldOneStepsDown() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.masterInfo()
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .master
        world.clock.onSleep = { [unowned world] now in
            if now >= .seconds(1) { world.node.peerRoles[self.other] = .replica }
        }
        try FailoverHook(health: world.health("failover"), change: change(from: other, to: world.me)).run()
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.master)]?.status, .passing)
        XCTAssertGreaterThanOrEqual(world.clock.now, .seconds(1))
        XCTAssertLessThan(world.clock.now, .milliseconds(1200))
    }

    func testTheNewMasterStopsResyncingAfterTheStepDownWait() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.masterInfo()
        world.cluster.passingInstances["redis"] = [other]
        world.node.peerRoles[other] = .master
        try FailoverHook(health: world.health("failover"), change: change(from: other, to: world.me)).run()
        XCTAssertEqual(world.cluster.checks[world.identity.checkID(.master)]?.status, .warning)
        XCTAssertEqual(world.clock.now, FailoverDecision.stepDownWait)
    }

    // MARK: healthSentinel

    private func sentinelHealth(_ world: FakeWorld) -> SentinelHealthHook {
        SentinelHealthHook(cluster: world.cluster, node: world.node, identity: world.identity, log: world.log("healthSentinel"),
                           clock: world.clock, healthTTL: world.settings.consul.healthTTL)
    }

    func testASentinelThatAnswersIsRegisteredAndPassed() throws {
        let world = try FakeWorld()
        world.cluster.services["redis-sentinel-host"] = LocalService(id: "redis-sentinel-host", name: "redis-sentinel", address: nil)
        XCTAssertTrue(try sentinelHealth(world).run())
        XCTAssertEqual(world.cluster.services.keys.sorted(), [world.identity.sentinelServiceID])
        XCTAssertEqual(world.cluster.checks[world.identity.sentinelCheckID]?.status, .passing)
    }

    func testASilentSentinelFailsItsCheckAndSmallClustersAreSaidSo() throws {
        let world = try FakeWorld()
        world.node.localSentinelMonitor = SentinelMaster(fields: ["num-other-sentinels": "1", "quorum": "2"])
        XCTAssertTrue(try sentinelHealth(world).run())
        XCTAssertTrue(world.lines.contain("only 2 sentinel(s) known"))
        world.node.localSentinel = nil
        XCTAssertFalse(try sentinelHealth(world).run())
        XCTAssertEqual(world.cluster.checks[world.identity.sentinelCheckID]?.status, .critical)
    }

    // MARK: awaitPreStop

    func testAwaitPreStopEndsWhenRedisStopsListeningOrItsBudgetRunsOut() throws {
        let world = try FakeWorld()
        world.clock.onSleep = { [unowned world] now in if now >= .seconds(3) { world.node.listens = false } }
        AwaitPreStopHook(node: world.node, log: world.log("awaitPreStop"), clock: world.clock, budget: .seconds(40)).run()
        XCTAssertEqual(world.clock.now, .seconds(3))
        let stuck = try FakeWorld()
        AwaitPreStopHook(node: stuck.node, log: stuck.log("awaitPreStop"), clock: stuck.clock, budget: .seconds(40)).run()
        XCTAssertEqual(stuck.clock.now, .seconds(40))
        XCTAssertTrue(stuck.lines.contain("letting the job stop anyway"))
    }
}
