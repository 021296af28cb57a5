import XCTest
@testable import RedisAutopilot

/// preStop's three stages (handover, leave, reset), run in-process on the
/// fakes.
final class PreStopHookTests: XCTestCase {
    private let replica = try! NodeAddress(host: "10.0.0.2", port: 6379)
    private let replicaSentinel = try! NodeAddress(host: "10.0.0.2", port: 26379)
    private let third = try! NodeAddress(host: "10.0.0.3", port: 6379)
    private let thirdSentinel = try! NodeAddress(host: "10.0.0.3", port: 26379)

    private func registered(_ world: FakeWorld) throws {
        for role in RoleService.allCases {
            try world.cluster.register(ServiceRegistration(
                id: world.identity.serviceID(role), name: role.name, address: world.me, ttl: .seconds(10), reapAfter: .seconds(60)))
        }
        world.cluster.services[world.identity.sentinelServiceID] = LocalService(
            id: world.identity.sentinelServiceID, name: "redis-sentinel", address: world.mySentinel)
    }

    func testAReplicaLeavesWithoutAHandover() throws {
        let world = try FakeWorld()
        try registered(world)
        world.node.info = FakeNode.replicaInfo(of: replica)
        try world.preStop().run()
        XCTAssertTrue(world.node.pauses.isEmpty)
        XCTAssertTrue(world.node.failoverRequests.isEmpty)
        XCTAssertTrue(world.cluster.services.isEmpty)
        XCTAssertEqual(world.node.redisShutdowns, 1)
        XCTAssertEqual(world.node.sentinelShutdowns, 1)
        XCTAssertTrue(world.lines.contain("no handover needed"))
        XCTAssertTrue(world.lines.contain("no sentinel lists this node any more"))
    }

    func testAMasterPausesWritesHandsOverAndNeverGetsThemBack() throws {
        let world = try FakeWorld()
        try registered(world)
        world.cluster.passingInstances["redis-sentinel"] = [world.mySentinel, replicaSentinel, thirdSentinel]
        world.node.info = FakeNode.masterInfo(replicas: [(replica, 100), (third, 100)], offset: 100)
        world.node.sentinelAnswers[replicaSentinel] = SentinelAnswer(master: world.me, failingOver: false)
        world.node.sentinelAnswers[thirdSentinel] = SentinelAnswer(master: world.me, failingOver: false)
        world.node.localSentinel = SentinelAnswer(master: world.me, failingOver: false)
        world.node.onFailover = { [unowned world, replica] _ in
            world.node.localSentinel = SentinelAnswer(master: replica, failingOver: false)
            world.node.sentinelAnswers[self.replicaSentinel] = SentinelAnswer(master: replica, failingOver: false)
            world.node.peerRoles[replica] = .master
        }
        try world.preStop().run()
        XCTAssertEqual(world.node.pauses.count, 1)
        XCTAssertEqual(world.node.failoverRequests, [nil], "asked of this node's own Sentinel")
        XCTAssertEqual(world.node.unpauses, 0, "the held writes must never run on a master that is going away")
        XCTAssertTrue(world.lines.contain("2 of 3 sentinels name 10.0.0.2:6379 master and it answers as master; handover done"))
        XCTAssertTrue(world.cluster.services.isEmpty)
        XCTAssertEqual(world.node.redisShutdowns, 1)
    }

    func testALaggingReplicaIsWaitedForUpToTheCatchUpLimit() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.masterInfo(replicas: [(replica, 100), (third, 40)], offset: 100)
        world.node.onFailover = { [unowned world, replica] _ in
            world.node.localSentinel = SentinelAnswer(master: replica, failingOver: false)
            world.node.peerRoles[replica] = .master
        }
        try world.preStop().run()
        XCTAssertEqual(world.node.failoverRequests.count, 1)
        XCTAssertGreaterThanOrEqual(world.clock.now, .seconds(5))
        XCTAssertLessThan(world.clock.now, .milliseconds(5100))
        XCTAssertTrue(world.lines.contain("still behind: 10.0.0.3:6379"))
    }

    func testAHandoverThatDoesNotHappenGivesTheWritesBackAndLeavesAnyway() throws {
        let world = try FakeWorld(environment: ["FAILOVER_WAIT_TIMEOUT": "12s"])
        try registered(world)
        world.node.info = FakeNode.masterInfo(replicas: [(replica, 100)], offset: 100)
        world.node.pinging = [replica]
        try world.preStop().run()
        XCTAssertEqual(world.node.failoverRequests.count, 1)
        XCTAssertEqual(world.node.unpauses, 1)
        XCTAssertTrue(world.lines.contain("no new master within the handover's 12s"))
        XCTAssertTrue(world.cluster.services.isEmpty)
        XCTAssertEqual(world.node.redisShutdowns, 1)
        XCTAssertLessThan(world.clock.now, .seconds(13))
    }

    func testARefusedFailoverIsObservedAgainAndDoesNotStopTheLeaving() throws {
        let world = try FakeWorld(environment: ["FAILOVER_WAIT_TIMEOUT": "3s"])
        try registered(world)
        world.node.info = FakeNode.masterInfo(replicas: [(replica, 100)], offset: 100)
        world.node.refuseFailover = true
        try world.preStop().run()
        XCTAssertTrue(world.lines.contain("the local sentinel refused SENTINEL FAILOVER"))
        XCTAssertTrue(world.lines.contain("no new master within the handover's 3s"))
        XCTAssertEqual(world.node.unpauses, 1)
        XCTAssertTrue(world.cluster.services.isEmpty)
        XCTAssertEqual(world.node.redisShutdowns, 1)
    }

    func testTheHandoverIsCutToLeaveRoomForLeaving() throws {
        let world = try FakeWorld(environment: ["FAILOVER_WAIT_TIMEOUT": "60s"])
        world.node.info = FakeNode.masterInfo(replicas: [(replica, 100)], offset: 100)
        world.node.pinging = [replica]
        let hook = world.preStop()
        XCTAssertEqual(hook.handoverBudget, .seconds(30))
        try hook.run()
        XCTAssertTrue(world.lines.contain("no new master within the handover's 30s"))
        XCTAssertEqual(world.node.redisShutdowns, 1)
    }

    func testTheOtherSentinelsAreResetOnceThisNodeIsGone() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.replicaInfo(of: replica)
        world.cluster.passingInstances["redis-sentinel"] = [world.mySentinel, replicaSentinel, thirdSentinel]
        for sentinel in [replicaSentinel, thirdSentinel] {
            world.node.views[sentinel] = SentinelView(
                sentinel: sentinel, failoverInProgress: false, replicas: [world.me, third],
                sentinels: [world.mySentinel, replicaSentinel, thirdSentinel].filter { $0 != sentinel })
        }
        world.node.onReset = { [unowned world, third] sentinel in
            // Rediscovered at once: the replica and the other sentinel, not this node.
            world.node.views[sentinel] = SentinelView(
                sentinel: sentinel, failoverInProgress: false, replicas: [third],
                sentinels: [self.replicaSentinel, self.thirdSentinel].filter { $0 != sentinel })
        }
        try world.preStop().run()
        XCTAssertEqual(Set(world.node.resets), [replicaSentinel, thirdSentinel])
        XCTAssertTrue(world.lines.contain("no sentinel lists this node any more"))
    }

    func testResetsWaitWhileAFailoverRunsAndGiveUpAtTheDeadline() throws {
        let world = try FakeWorld()
        world.node.info = FakeNode.replicaInfo(of: replica)
        world.cluster.passingInstances["redis-sentinel"] = [replicaSentinel]
        world.node.views[replicaSentinel] = SentinelView(
            sentinel: replicaSentinel, failoverInProgress: true, replicas: [world.me], sentinels: [world.mySentinel])
        try world.preStop().run()
        XCTAssertTrue(world.node.resets.isEmpty)
        XCTAssertEqual(world.clock.now, HookBudget.preStop)
        XCTAssertTrue(world.lines.contain("sentinel resets not finished within the preStop budget"))
    }
}
