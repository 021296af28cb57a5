import XCTest
@testable import RedisAutopilot

final class RoleDecisionTests: XCTestCase {
    let me = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let other = try! NodeAddress(host: "10.0.0.2", port: 6379)
    let third = try! NodeAddress(host: "10.0.0.3", port: 6379)

    private func decide(_ snapshot: RoleSnapshot, timeout: Duration = .seconds(60)) -> RolePlan {
        RoleDecision.decide(snapshot, masterWaitTimeout: timeout)
    }

    func testEmptyClusterTakesTheLockFirst() {
        let plan = decide(RoleSnapshot(me: me))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
        XCTAssertTrue(plan.reason.contains("no master registered"), plan.reason)
    }

    func testEmptyClusterWithLockBecomesMaster() {
        let plan = decide(RoleSnapshot(me: me, holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeMaster)
    }

    func testTheLockHolderAnsweringAsMasterIsFollowedAtOnce() {
        let plan = decide(RoleSnapshot(me: me, bootstrapLockHolder: other, bootstrapLockHolderIsMaster: true))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
        XCTAssertTrue(plan.reason.contains("10.0.0.2:6379 holds the bootstrap lock"), plan.reason)
    }

    func testTheLockHolderNotAnsweringYetIsWaitedForNotFollowed() {
        let plan = decide(RoleSnapshot(me: me, bootstrapLockHolder: other, elapsed: .seconds(120)))
        XCTAssertEqual(plan.step, .wait)
        XCTAssertTrue(plan.reason.contains("does not answer as master yet"), plan.reason)
        XCTAssertLessThan(plan.recheckAfter, .seconds(1))
    }

    func testSentinelsAndConsulOutrankTheLockHolder() {
        let bySentinel = decide(RoleSnapshot(me: me, sentinelMasters: [third, third], bootstrapLockHolder: other,
                                             bootstrapLockHolderIsMaster: true))
        XCTAssertEqual(bySentinel.step, .becomeReplica(of: third))
        let byConsul = decide(RoleSnapshot(me: me, passingMasters: [third], bootstrapLockHolder: other,
                                           bootstrapLockHolderIsMaster: true))
        XCTAssertEqual(byConsul.step, .becomeReplica(of: third))
    }

    func testSentinelsNamingThisNodeOutrankAnotherLockHolder() {
        let plan = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], localData: ["dump.rdb"], bootstrapLockHolder: other,
                                       bootstrapLockHolderIsMaster: true))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
    }

    func testPassingMasterMakesAReplica() {
        let plan = decide(RoleSnapshot(me: me, passingMasters: [other], registeredMasters: [other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
        XCTAssertTrue(plan.reason.contains("10.0.0.2:6379"), plan.reason)
    }

    func testPassingMasterWinsEvenWhenThisNodeHoldsTheLock() {
        let plan = decide(RoleSnapshot(me: me, passingMasters: [other], holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }

    func testOwnStaleRegistrationIsNotAMaster() {
        let plan = decide(RoleSnapshot(me: me, passingMasters: [me], registeredMasters: [me]))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
    }

    func testRegisteredButNotPassingMasterIsWaitedFor() {
        let plan = decide(RoleSnapshot(me: me, registeredMasters: [other], elapsed: .seconds(10)))
        XCTAssertEqual(plan.step, .wait)
        XCTAssertTrue(plan.reason.contains("10.0.0.2:6379") && plan.reason.contains("10s"), plan.reason)
    }

    func testWaitEndsAtMasterWaitTimeout() {
        let plan = decide(RoleSnapshot(me: me, registeredMasters: [other], elapsed: .seconds(60)))
        XCTAssertEqual(plan.step, .acquireBootstrapLock)
        XCTAssertTrue(plan.reason.contains("did not pass within MASTER_WAIT_TIMEOUT"), plan.reason)
    }

    func testSentinelsOverruleConsulAfterAFailover() {
        // Consul still lists the old master as passing; the sentinels have moved on.
        let plan = decide(RoleSnapshot(me: me, passingMasters: [other], sentinelMasters: [third, third, other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: third))
        XCTAssertTrue(plan.reason.contains("2 of 3"), plan.reason)
    }

    func testRestartedOldMasterFollowsTheNewMaster() {
        // This node was master; a failover promoted another while it was down.
        let plan = decide(RoleSnapshot(me: me, passingMasters: [other], registeredMasters: [me, other], sentinelMasters: [other, other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }

    func testSentinelsStillNamingThisNodeLetItTakeTheRoleBackUnderTheLock() {
        let first = decide(RoleSnapshot(me: me, registeredMasters: [me], sentinelMasters: [me, me]))
        XCTAssertEqual(first.step, .acquireBootstrapLock)
        let second = decide(RoleSnapshot(me: me, registeredMasters: [me], sentinelMasters: [me, me], holdsBootstrapLock: true))
        XCTAssertEqual(second.step, .becomeMaster)
    }

    func testARestartedMasterTheSentinelsDoubtWaitsForTheirVerdict() {
        let plan = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], sentinelsDoubtingMaster: [other],
                                       liveReplicas: [other, third], localData: ["dump.rdb"], holdsBootstrapLock: true, elapsed: .seconds(3)))
        XCTAssertEqual(plan.step, .wait)
        XCTAssertTrue(plan.reason.contains("a failover may be starting"), plan.reason)
        XCTAssertLessThan(plan.recheckAfter, .seconds(1))
    }

    func testADoubtedMasterTakesTheRoleBackWhenNobodyCouldTakeOverOrTheWaitIsOver() {
        let alone = decide(RoleSnapshot(me: me, sentinelMasters: [me], sentinelsDoubtingMaster: [me], localData: ["dump.rdb"],
                                        holdsBootstrapLock: true))
        XCTAssertEqual(alone.step, .becomeMaster)
        let waited = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], sentinelsDoubtingMaster: [other],
                                         liveReplicas: [other], localData: ["dump.rdb"], holdsBootstrapLock: true, elapsed: .seconds(60)))
        XCTAssertEqual(waited.step, .becomeMaster)
    }

    func testSentinelsNamingThisNodeLoseToAnotherPassingMaster() {
        let plan = decide(RoleSnapshot(me: me, passingMasters: [other], sentinelMasters: [me]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
        XCTAssertTrue(plan.reason.contains("sentinels still name this node"), plan.reason)
    }

    func testTwoPassingMastersPickTheSameOneOnEveryNode() {
        let a = decide(RoleSnapshot(me: me, passingMasters: [third, other]))
        let b = decide(RoleSnapshot(me: me, passingMasters: [other, third]))
        XCTAssertEqual(a.step, .becomeReplica(of: other))
        XCTAssertEqual(a.step, b.step)
        XCTAssertTrue(a.reason.contains("more than one passing master"), a.reason)
    }

    func testSentinelTieIsBrokenByAddressOrder() {
        let plan = decide(RoleSnapshot(me: me, sentinelMasters: [third, other]))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }

    // MARK: restarts and lost data

    func testARunningFailoverIsWaitedForBeforeAnyRole() {
        // The sentinels still name this node while they fail it over.
        let plan = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], sentinelsFailingOver: [other], holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .wait)
        XCTAssertTrue(plan.reason.contains("failover in progress") && plan.reason.contains("10.0.0.2:6379"), plan.reason)
    }

    func testAMasterReplacedWhileDownRestartsAsAReplicaEvenHoldingTheLock() {
        let plan = decide(RoleSnapshot(me: me, passingMasters: [me], sentinelMasters: [other, other, other],
                                       localData: ["appendonlydir/"], holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeReplica(of: other))
    }

    func testAMasterThatLostItsDataAsksSentinelToPromoteAReplica() {
        let plan = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], liveReplicas: [other, third], localData: [],
                                       holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .requestFailover)
        XCTAssertTrue(plan.reason.contains("data dir is empty") && plan.reason.contains("10.0.0.3:6379"), plan.reason)
        let asked = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], liveReplicas: [other], localData: [],
                                        holdsBootstrapLock: true, failoverRequested: true))
        XCTAssertEqual(asked.step, .wait)
    }

    func testAMasterWithItsDataTakesTheRoleBackDespiteReplicas() {
        let plan = decide(RoleSnapshot(me: me, sentinelMasters: [me, me], liveReplicas: [other], localData: ["dump.rdb (10 bytes)"],
                                       holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeMaster)
    }

    func testAnEmptyNodeNeverBootstrapsOverReplicasThatHoldData() {
        // No master anywhere and no sentinel naming one, but replicas live.
        let plan = decide(RoleSnapshot(me: me, liveReplicas: [other], localData: [], holdsBootstrapLock: true, elapsed: .seconds(600)))
        XCTAssertEqual(plan.step, .wait)
        XCTAssertTrue(plan.reason.contains("not starting as an empty master"), plan.reason)
    }

    func testAnEmptyNodeOfAnEmptyClusterBootstraps() {
        let plan = decide(RoleSnapshot(me: me, liveReplicas: [me], localData: [], holdsBootstrapLock: true))
        XCTAssertEqual(plan.step, .becomeMaster)
    }
}

final class StartFallbackTests: XCTestCase {
    func testAReplicaConfigStartsAsThatReplica() throws {
        let master = try NodeAddress(host: "10.0.0.2", port: 6379)
        let plan = StartFallback.decide(configuredMaster: master, error: "Consul agent refused")
        XCTAssertEqual(plan.outcome, .replica(of: master))
        XCTAssertTrue(plan.reason.contains("Consul agent refused") && plan.reason.contains("accepts no writes"), plan.reason)
    }

    func testAMasterConfigDoesNotStart() {
        let plan = StartFallback.decide(configuredMaster: nil, error: "no sentinel answered")
        XCTAssertNil(plan.outcome)
        XCTAssertTrue(plan.reason.contains("second master"), plan.reason)
    }
}

final class RedisConfReplicationTests: XCTestCase {
    func testTheLastReplicationLineWins() throws {
        let text = """
        port 6379
        replicaof 10.0.0.1 6379
        # Generated by CONFIG REWRITE
        replicaof "10.0.0.2" 6380
        """
        XCTAssertEqual(RedisConfReplication.master(in: text), try NodeAddress(host: "10.0.0.2", port: 6380))
        XCTAssertEqual(RedisConfReplication.master(in: "REPLICAOF 10.0.0.3 7000\n"), try NodeAddress(host: "10.0.0.3", port: 7000))
    }

    func testAMasterConfigOrGarbageNamesNoMaster() {
        for text in ["port 6379\nappendonly yes\n", "", "replicaof 10.0.0.1\n", "replicaof 10.0.0.1 0\n",
                     "replicaof 10.0.0.1 99999\n", "replicaof 10.0.0.1 abc\n", "replicaof 10.0.0.1 6379 extra\n",
                     "replicaof 10.0.0.1 6379\nreplicaof no one\n", "\u{0}\u{1}replicaof\n"] {
            XCTAssertNil(RedisConfReplication.master(in: text), text.debugDescription)
        }
    }
}
