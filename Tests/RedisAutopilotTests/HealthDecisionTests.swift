import XCTest
@testable import RedisAutopilot

final class HealthDecisionTests: XCTestCase {
    let me = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let master = try! NodeAddress(host: "10.0.0.2", port: 6379)

    func testUnreachableRedisFailsEveryRegisteredCheck() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .unreachable(reason: "connection refused"), registered: [.master: me], announce: me))
        XCTAssertFalse(plan.healthy)
        XCTAssertEqual(plan.actions, [.fail(.master, note: "redis does not answer: connection refused")])
        XCTAssertTrue(plan.reason.contains("registered as redis"), plan.reason)
    }

    func testUnreachableRedisWithNothingRegisteredStillFails() {
        let plan = HealthDecision.decide(HealthSnapshot(redis: .unreachable(reason: "timeout"), registered: [:], announce: me))
        XCTAssertFalse(plan.healthy)
        XCTAssertEqual(plan.actions, [])
    }

    func testNewMasterRegistersAndPasses() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 2, loading: false), registered: [:], announce: me))
        XCTAssertTrue(plan.healthy)
        XCTAssertEqual(plan.actions, [.register(.master, me), .pass(.master, note: "master with 2 connected replica(s)")])
    }

    func testPromotedReplicaMovesToTheMasterService() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 1, loading: false), registered: [.replica: me], announce: me))
        XCTAssertEqual(plan.actions, [.register(.master, me), .deregister(.replica), .pass(.master, note: "master with 1 connected replica(s)")])
    }

    func testDemotedMasterMovesToTheReplicaService() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .replica(of: master, linkUp: true, loading: false), registered: [.master: me], announce: me))
        XCTAssertEqual(plan.actions, [.register(.replica, me), .deregister(.master), .pass(.replica, note: "replica of 10.0.0.2:6379, link up")])
    }

    func testSteadyReplicaOnlyPasses() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .replica(of: master, linkUp: true, loading: false), registered: [.replica: me], announce: me))
        XCTAssertEqual(plan.actions, [.pass(.replica, note: "replica of 10.0.0.2:6379, link up")])
    }

    func testReplicaWithLinkDownWarnsSoReadersSkipIt() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .replica(of: master, linkUp: false, loading: false), registered: [.replica: me], announce: me))
        XCTAssertTrue(plan.healthy)
        XCTAssertEqual(plan.actions, [.warn(.replica, note: "replica of 10.0.0.2:6379, link down")])
    }

    func testMasterWhoseSentinelLostAMajorityOfLiveSentinelsStopsPassing() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 2, loading: false), registered: [.master: me], announce: me,
            sentinelMaster: me, sentinelReach: SentinelReach(known: 3, cutOff: 2)))
        XCTAssertTrue(plan.healthy)
        XCTAssertEqual(plan.actions, [.warn(.master, note: "master with 2 connected replica(s), but its Sentinel cannot "
            + "reach 2 of 3 sentinels not known dead to Consul: they may be promoting another master")])
        XCTAssertTrue(plan.reason.contains("without passing"), plan.reason)
    }

    func testMasterThatLostAMinorityOfSentinelsKeepsPassing() {
        for (known, cutOff) in [(3, 1), (2, 1), (5, 2)] {
            let plan = HealthDecision.decide(HealthSnapshot(
                redis: .master(connectedReplicas: 1, loading: false), registered: [.master: me], announce: me,
                sentinelMaster: me, sentinelReach: SentinelReach(known: known, cutOff: cutOff)))
            XCTAssertEqual(plan.actions, [.pass(.master, note: "master with 1 connected replica(s)")], "\(cutOff) of \(known)")
        }
    }

    func testMajorityIsOfEverySentinelKnown() {
        XCTAssertTrue(SentinelReach(known: 5, cutOff: 3).majorityCutOff)
        XCTAssertFalse(SentinelReach(known: 4, cutOff: 2).majorityCutOff)
        XCTAssertTrue(SentinelReach(known: 4, cutOff: 3).majorityCutOff)
        XCTAssertFalse(SentinelReach(known: 1, cutOff: 0).majorityCutOff)
    }

    func testLoadingMasterWarns() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 0, loading: true), registered: [.master: me], announce: me))
        XCTAssertEqual(plan.actions, [.warn(.master, note: "master with 0 connected replica(s), loading dataset")])
    }

    func testChangedAnnounceAddressReRegisters() {
        let moved = try! NodeAddress(host: "10.0.0.9", port: 6379)
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 0, loading: false), registered: [.master: me], announce: moved))
        XCTAssertEqual(plan.actions.first, .register(.master, moved))
    }

    func testBootstrapLockIsReleasedOnlyOnceTheMasterPasses() {
        let notYet = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 0, loading: false), registered: [:], announce: me,
            holdsBootstrapLock: true, masterPassingInConsul: false))
        XCTAssertFalse(notYet.actions.contains(.releaseBootstrapLock))

        let now = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 0, loading: false), registered: [.master: me], announce: me,
            holdsBootstrapLock: true, masterPassingInConsul: true))
        XCTAssertEqual(now.actions.last, .releaseBootstrapLock)
        XCTAssertTrue(now.reason.contains("releasing the bootstrap lock"), now.reason)
    }

    func testReplicaHoldingTheLockReleasesIt() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .replica(of: master, linkUp: true, loading: false), registered: [.replica: me], announce: me,
            holdsBootstrapLock: true))
        XCTAssertEqual(plan.actions.last, .releaseBootstrapLock)
    }

    func testMasterThatSentinelNoLongerNamesIsNotListedAsMaster() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 0, loading: false), registered: [.master: me], announce: me,
            sentinelMaster: master))
        XCTAssertTrue(plan.healthy)
        XCTAssertEqual(plan.actions, [
            .register(.replica, me), .deregister(.master),
            .warn(.replica, note: "reports master but Sentinel names 10.0.0.2:6379; awaiting reconfiguration"),
        ])
    }

    func testMasterThatSentinelNamesStaysMaster() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 1, loading: false), registered: [.master: me], announce: me,
            sentinelMaster: me))
        XCTAssertEqual(plan.actions, [.pass(.master, note: "master with 1 connected replica(s)")])
    }

    func testStaleRegistrationsAreRemoved() {
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .replica(of: master, linkUp: true, loading: false), registered: [.replica: me], announce: me,
            staleServiceIDs: ["redis-replica-10.0.0.7-6379"]))
        XCTAssertEqual(plan.actions, [
            .deregisterStale(id: "redis-replica-10.0.0.7-6379"), .pass(.replica, note: "replica of 10.0.0.2:6379, link up"),
        ])
    }

    func testAFreshlyPromotedMasterDoesNotPassWhileTheOldOneStillDoes() {
        let me = try! NodeAddress(host: "10.0.0.2", port: 6379)
        let old = try! NodeAddress(host: "10.0.0.1", port: 6379)
        let seen = HealthSnapshot(
            redis: .master(connectedReplicas: 1, loading: false), registered: [.replica: me], announce: me,
            sentinelMaster: me, otherPassingMasters: [old])
        let plan = HealthDecision.decide(seen)
        XCTAssertEqual(plan.actions.first, .register(.master, me))
        XCTAssertTrue(plan.actions.contains(.deregister(.replica)))
        XCTAssertFalse(plan.actions.contains { if case .pass = $0 { return true } else { return false } }, "\(plan.actions)")
        XCTAssertTrue(plan.actions.contains { if case .warn(.master, _) = $0 { return true } else { return false } })
        XCTAssertTrue(plan.reason.contains("still lists 10.0.0.1:6379 as passing redis"), plan.reason)

        var alone = seen
        alone.otherPassingMasters = []
        XCTAssertTrue(HealthDecision.decide(alone).actions.contains { if case .pass(.master, _) = $0 { return true } else { return false } })
    }

    /// Consul's catalog keeps a crashed node's statuses until its restarted
    /// agent syncs: the dead old master is listed as passing for seconds.
    func testAListedMasterThatDoesNotAnswerAsMasterIsNotWaitedFor() throws {
        let me = try NodeAddress(host: "10.0.0.2", port: 6379)
        let old = try NodeAddress(host: "10.0.0.1", port: 6379)
        let plan = HealthDecision.decide(HealthSnapshot(
            redis: .master(connectedReplicas: 1, loading: false), registered: [.master: me], announce: me,
            sentinelMaster: me, listedMastersNotAnswering: [old]))
        XCTAssertEqual(plan.actions, [.pass(.master, note: "master with 1 connected replica(s)")])
        XCTAssertTrue(plan.reason.contains("Consul still lists 10.0.0.1:6379 as passing redis, but it does not answer as master"),
                      plan.reason)
    }
}
