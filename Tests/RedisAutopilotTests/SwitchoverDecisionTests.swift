import XCTest
@testable import RedisAutopilot

final class SwitchoverDecisionTests: XCTestCase {
    let m = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let r2 = try! NodeAddress(host: "10.0.0.2", port: 6379)
    let r3 = try! NodeAddress(host: "10.0.0.3", port: 6379)
    let quorum = SentinelQuorumCheck(reachable: true, message: "OK 3 usable Sentinels")

    /// A healthy 3-node cluster: 3 sentinels naming m, both replicas online and caught up to 100.
    func healthy() -> SwitchoverSnapshot {
        SwitchoverSnapshot(
            sentinelsKnown: 3, namedMasters: [m, m, m], quorum: quorum, master: m, masterAnswers: true, masterOffset: 100,
            replicas: [SwitchoverReplica(address: r2, online: true, offset: 100), SwitchoverReplica(address: r3, online: true, offset: 90)],
            consulMasters: [m])
    }

    func next(_ seen: SwitchoverSnapshot, to target: NodeAddress? = nil, _ phase: SwitchoverPhase = .checking) -> SwitchoverPlan {
        SwitchoverDecision.next(seen, target: target, phase: phase, catchUpLimit: 1.5)
    }

    func assertRefused(_ seen: SwitchoverSnapshot, to target: NodeAddress? = nil, because words: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        let plan = next(seen, to: target)
        XCTAssertEqual(plan.step, .refuse, plan.reason, file: file, line: line)
        XCTAssertTrue(plan.reason.contains(words), plan.reason, file: file, line: line)
    }

    // MARK: checking

    func testRefusesWithoutAnySentinel() {
        var seen = healthy()
        seen.namedMasters = []
        assertRefused(seen, because: "no sentinel answers")
    }

    func testRefusesWhileAFailoverRuns() {
        var seen = healthy()
        seen.failoverInProgress = true
        assertRefused(seen, because: "already in progress")
    }

    func testRefusesWhenSentinelsDisagree() {
        var seen = healthy()
        seen.namedMasters = [m, m, r2]
        assertRefused(seen, because: "disagree")
    }

    func testRefusesWithoutAMajorityOfSentinels() {
        var seen = healthy()
        seen.namedMasters = [m]
        assertRefused(seen, because: "only 1 of 3 sentinels answer")
    }

    func testRefusesWithoutQuorum() {
        var seen = healthy()
        seen.quorum = SentinelQuorumCheck(reachable: false, message: "NOQUORUM 1 usable Sentinels")
        assertRefused(seen, because: "NOQUORUM")
        seen.quorum = nil
        assertRefused(seen, because: "no quorum")
    }

    func testRefusesADeadMaster() {
        var seen = healthy()
        seen.masterAnswers = false
        assertRefused(seen, because: "does not answer as master")
    }

    func testRefusesTheMasterItselfAndStrangersAsTarget() {
        assertRefused(healthy(), to: m, because: "already the master")
        assertRefused(healthy(), to: try! NodeAddress(host: "10.9.9.9", port: 6379), because: "not a replica of the master")
    }

    func testRefusesAnUnhealthyTarget() {
        var seen = healthy()
        seen.replicas[0].online = false
        assertRefused(seen, to: r2, because: "not a healthy replica")
        seen = healthy()
        seen.replicas[0].flaggedDown = true
        assertRefused(seen, to: r2, because: "Sentinel flags it down")
        seen = healthy()
        seen.replicas[0].ackAgeSeconds = 7
        assertRefused(seen, to: r2, because: "last acknowledged 7s ago")
        seen = healthy()
        seen.replicas[0].sentinelPriority = 0
        assertRefused(seen, to: r2, because: "replica-priority 0")
        seen.replicas[0].sentinelPriority = nil
        assertRefused(seen, to: r2, because: "not among the replicas Sentinel lists")
    }

    func testWithoutTargetRefusesWhenNoReplicaCanBePromotedOrOneIsSilent() {
        var seen = healthy()
        seen.replicas = [SwitchoverReplica(address: r2, online: true, offset: 100, sentinelPriority: 0)]
        assertRefused(seen, because: "no healthy replica")
        seen = healthy()
        seen.replicas[1].ackAgeSeconds = 3
        assertRefused(seen, because: "has not acknowledged")
    }

    func testWithoutTargetPausesWrites() {
        XCTAssertEqual(next(healthy()).step, .pauseWrites)
    }

    func testTargetFirstMakesTheOtherReplicasIneligible() {
        XCTAssertEqual(next(healthy(), to: r2).step, .lowerPriorities([r3]))
        var alone = healthy()
        alone.replicas[1].sentinelPriority = 0
        XCTAssertEqual(next(alone, to: r2).step, .pauseWrites)
    }

    // MARK: priorities lowered

    func testWaitsUntilSentinelSeesTheLoweredPriorities() {
        XCTAssertEqual(next(healthy(), to: r2, .prioritiesLowered).step, .waitForSentinel)
        var seen = healthy()
        seen.replicas[1].sentinelPriority = 0
        XCTAssertEqual(next(seen, to: r2, .prioritiesLowered).step, .pauseWrites)
        seen.replicas[1].sentinelPriority = nil
        XCTAssertEqual(next(seen, to: r2, .prioritiesLowered).step, .pauseWrites, "one Sentinel does not list cannot be promoted")
    }

    func testAbortsMidwayWhenTheClusterChangesUnderIt() {
        var seen = healthy()
        seen.failoverInProgress = true
        XCTAssertEqual(next(seen, to: r2, .prioritiesLowered).step, .abort)
        seen = healthy()
        seen.masterAnswers = false
        XCTAssertEqual(next(seen, .paused(offset: 100, seconds: 0)).step, .abort)
        seen = healthy()
        seen.namedMasters = [r3, r3, m]
        XCTAssertEqual(next(seen, .paused(offset: 100, seconds: 0)).step, .abort)
    }

    // MARK: paused

    func testFailoverOnlyOnceEveryEligibleReplicaHoldsEveryAcknowledgedWrite() {
        XCTAssertEqual(next(healthy(), .paused(offset: 100, seconds: 0.2)).step, .waitForCatchUp)
        var seen = healthy()
        seen.replicas[1].offset = 100
        XCTAssertEqual(next(seen, .paused(offset: 100, seconds: 0.2)).step, .requestFailover)
    }

    func testAnIneligibleReplicaIsNotWaitedFor() {
        var seen = healthy()
        seen.replicas[1].sentinelPriority = 0
        XCTAssertEqual(next(seen, .paused(offset: 100, seconds: 0.2)).step, .requestFailover)
    }

    func testWithTargetOnlyTheTargetMustCatchUp() {
        var seen = healthy()
        seen.replicas[1].sentinelPriority = 0
        XCTAssertEqual(next(seen, to: r2, .paused(offset: 100, seconds: 0.2)).step, .requestFailover)
        XCTAssertEqual(next(seen, to: r3, .paused(offset: 100, seconds: 0.2)).step, .waitForCatchUp)
    }

    func testGivesUpWhenAReplicaDoesNotCatchUpInTime() {
        let plan = next(healthy(), .paused(offset: 100, seconds: 1.6))
        XCTAssertEqual(plan.step, .abort)
        XCTAssertTrue(plan.reason.contains("10.0.0.3:6379") && plan.reason.contains("--to"), plan.reason)
    }

    func testAbortsWhenTheTargetGoesAwayWhilePaused() {
        var seen = healthy()
        seen.replicas.removeFirst()
        XCTAssertEqual(next(seen, to: r2, .paused(offset: 100, seconds: 0.2)).step, .abort)
        seen = healthy()
        seen.replicas[0].online = false
        XCTAssertEqual(next(seen, to: r2, .paused(offset: 100, seconds: 0.2)).step, .abort)
    }

    func testCatchUpLimitStaysUnderHalfOfSentinelsDownAfter() {
        XCTAssertEqual(SwitchoverDecision.catchUpLimit(downAfterSeconds: 30), 5)
        XCTAssertEqual(SwitchoverDecision.catchUpLimit(downAfterSeconds: 3), 1.5)
    }

    // MARK: failover requested

    func testHeldWritesWaitForTheLeaderToNameAPromotedReplicaThatAnswers() {
        let requested = SwitchoverPhase.failoverRequested(from: m, writesHeld: true)
        var seen = healthy()
        seen.failoverInProgress = true
        seen.leaderNames = m
        XCTAssertEqual(next(seen, requested).step, .waitForNewMaster)
        seen.leaderNames = r2
        XCTAssertEqual(next(seen, requested).step, .waitForNewMaster, "named but not master yet")
        seen.leaderNamedAnswersAsMaster = true
        XCTAssertEqual(next(seen, requested).step, .demoteOldMaster(r2),
                       "writes go as soon as the promoted replica is master, before the other sentinels follow")
        seen.oldMasterIsReplica = true
        XCTAssertEqual(next(seen, requested).step, .releaseWrites)
    }

    func testAFailoverSentinelEndedWithoutASwitchGivesTheWritesBack() {
        var seen = healthy()
        seen.leaderNames = m
        XCTAssertEqual(next(seen, .failoverRequested(from: m, writesHeld: true)).step, .abort)
        seen.leaderNames = nil
        XCTAssertEqual(next(seen, .failoverRequested(from: m, writesHeld: true)).step, .waitForNewMaster,
                       "a leader that does not answer for a moment is no reason to give up")
    }

    func testAfterTheWritesAMajorityMustNameTheNewMasterAndItMustAnswer() {
        let released = SwitchoverPhase.failoverRequested(from: m, writesHeld: false)
        var seen = healthy()
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster)
        seen.namedMasters = [r2, m, m]
        seen.namedAnswersAsMaster = true
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster)
        seen.namedMasters = [r2, r2, m]
        seen.namedAnswersAsMaster = false
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster)
        seen.namedAnswersAsMaster = true
        seen.consulMasters = [r2]
        XCTAssertEqual(next(seen, released).step, .done(r2))
    }

    func testDoneOnlyWhenConsulAgreesWithSentinel() {
        let released = SwitchoverPhase.failoverRequested(from: m, writesHeld: false)
        var seen = healthy()
        seen.namedMasters = [r2, r2, r2]
        seen.namedAnswersAsMaster = true
        seen.oldMasterIsReplica = true
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster)
        seen.consulMasters = [r2]
        seen.failoverInProgress = true
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster, "Sentinel still reconfiguring the replicas")
        seen.failoverInProgress = false
        seen.consulMasters = nil
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster)
        seen.consulMasters = [r2, m]
        XCTAssertEqual(next(seen, released).step, .waitForNewMaster)
        seen.consulMasters = [r2]
        XCTAssertEqual(next(seen, released).step, .done(r2))
    }
}
