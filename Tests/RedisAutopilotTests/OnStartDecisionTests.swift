import XCTest
@testable import RedisAutopilot

final class OnStartDecisionTests: XCTestCase {
    let me = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let other = try! NodeAddress(host: "10.0.0.2", port: 6379)
    let third = try! NodeAddress(host: "10.0.0.3", port: 6379)

    private func decide(_ snapshot: OnStartSnapshot, timeout: Double = 60) -> OnStartPlan {
        OnStartDecision.decide(snapshot, masterWaitTimeout: timeout)
    }

    func testEmptyClusterTakesTheLockFirst() {
        let plan = decide(OnStartSnapshot(me: me))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
        XCTAssertTrue(plan.reason.contains("no master registered"), plan.reason)
    }

    func testEmptyClusterWithLockBecomesMaster() {
        let plan = decide(OnStartSnapshot(me: me, holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeMaster)
    }

    func testPassingMasterMakesAReplica() {
        let plan = decide(OnStartSnapshot(me: me, passingMasters: [other], registeredMasters: [other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
        XCTAssertTrue(plan.reason.contains("10.0.0.2:6379"), plan.reason)
    }

    func testPassingMasterWinsEvenWhenThisNodeHoldsTheLock() {
        let plan = decide(OnStartSnapshot(me: me, passingMasters: [other], holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }

    func testOwnStaleRegistrationIsNotAMaster() {
        let plan = decide(OnStartSnapshot(me: me, passingMasters: [me], registeredMasters: [me]))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
    }

    func testRegisteredButNotPassingMasterIsWaitedFor() {
        let plan = decide(OnStartSnapshot(me: me, registeredMasters: [other], waitedForMaster: 10))
        XCTAssertEqual(plan.step, .waitForMaster)
        XCTAssertTrue(plan.reason.contains("10.0.0.2:6379") && plan.reason.contains("10s"), plan.reason)
    }

    func testWaitEndsAtMasterWaitTimeout() {
        let plan = decide(OnStartSnapshot(me: me, registeredMasters: [other], waitedForMaster: 60))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
        XCTAssertTrue(plan.reason.contains("did not pass within MASTER_WAIT_TIMEOUT"), plan.reason)
    }

    func testSentinelsOverruleConsulAfterAFailover() {
        // Consul still lists the old master as passing; the sentinels have moved on.
        let plan = decide(OnStartSnapshot(me: me, passingMasters: [other], sentinelMasters: [third, third, other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: third))
        XCTAssertTrue(plan.reason.contains("2 of 3"), plan.reason)
    }

    func testRestartedOldMasterFollowsTheNewMaster() {
        // This node was master; a failover promoted another while it was down.
        let plan = decide(OnStartSnapshot(me: me, passingMasters: [other], registeredMasters: [me, other], sentinelMasters: [other, other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }

    func testSentinelsStillNamingThisNodeLetItTakeTheRoleBackUnderTheLock() {
        let first = decide(OnStartSnapshot(me: me, registeredMasters: [me], sentinelMasters: [me, me]))
        XCTAssertEqual(first.step, .acquireBootstrapLock)
        let second = decide(OnStartSnapshot(me: me, registeredMasters: [me], sentinelMasters: [me, me], holdsBootstrapLock: true))
        XCTAssertEqual(second.step, .becomeMaster)
    }

    func testSentinelsNamingThisNodeLoseToAnotherPassingMaster() {
        let plan = decide(OnStartSnapshot(me: me, passingMasters: [other], sentinelMasters: [me]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
        XCTAssertTrue(plan.reason.contains("sentinels still name this node"), plan.reason)
    }

    func testTwoPassingMastersPickTheSameOneOnEveryNode() {
        let a = decide(OnStartSnapshot(me: me, passingMasters: [third, other]))
        let b = decide(OnStartSnapshot(me: me, passingMasters: [other, third]))
        XCTAssertEqual(a.step, .becomeReplica(of: other))
        XCTAssertEqual(a.step, b.step)
        XCTAssertTrue(a.reason.contains("more than one passing master"), a.reason)
    }

    func testSentinelTieIsBrokenByAddressOrder() {
        let plan = decide(OnStartSnapshot(me: me, sentinelMasters: [third, other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }
}
