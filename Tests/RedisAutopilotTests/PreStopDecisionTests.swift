import XCTest
@testable import RedisAutopilot

final class PreStopDecisionTests: XCTestCase {
    let r1 = NodeAddress(host: "10.0.0.1", port: 6379)
    let r2 = NodeAddress(host: "10.0.0.2", port: 6379)
    let r3 = NodeAddress(host: "10.0.0.3", port: 6379)
    let s1 = NodeAddress(host: "10.0.0.1", port: 26379)
    let s2 = NodeAddress(host: "10.0.0.2", port: 26379)
    let s3 = NodeAddress(host: "10.0.0.3", port: 26379)

    private let master = RedisObservation.master(connectedReplicas: 2, loading: false)

    func testReplicaAndDeadRedisSkipTheHandover() {
        XCTAssertEqual(PreStopDecision.handover(PreStopSnapshot(redis: .replica(of: r2, linkUp: true, loading: false)), pause: nil, catchUpLimit: 5).step, .skip)
        XCTAssertEqual(PreStopDecision.handover(PreStopSnapshot(redis: .unreachable(reason: "refused")), pause: nil, catchUpLimit: 5).step, .skip)
    }

    func testLoneMasterSkipsAndSaysWritesStop() {
        let plan = PreStopDecision.handover(PreStopSnapshot(redis: master), pause: nil, catchUpLimit: 5)
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("no online replica"), plan.reason)
    }

    func testMasterWithoutSentinelCannotHandOver() {
        let plan = PreStopDecision.handover(PreStopSnapshot(redis: master, onlineReplicas: [r2: 5], masterOffset: 5, sentinelReachable: false), pause: nil, catchUpLimit: 5)
        XCTAssertEqual(plan.step, .skip)
    }

    func testRunningFailoverIsAwaited() {
        let plan = PreStopDecision.handover(PreStopSnapshot(redis: master, onlineReplicas: [r2: 5], failoverInProgress: true), pause: nil, catchUpLimit: 5)
        XCTAssertEqual(plan.step, .awaitRunningFailover)
    }

    func testWritesArePausedFirstThenFailoverOnceEveryReplicaCaughtUp() {
        let behind = PreStopSnapshot(redis: master, onlineReplicas: [r2: 90, r3: 80], masterOffset: 100)
        XCTAssertEqual(PreStopDecision.handover(behind, pause: nil, catchUpLimit: 5).step, .pauseWrites)
        let paused = WritePause(offset: 100, seconds: 0.5)
        XCTAssertEqual(PreStopDecision.handover(behind, pause: paused, catchUpLimit: 5).step, .waitForReplicas)
        let oneCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 80], masterOffset: 120)
        XCTAssertEqual(PreStopDecision.handover(oneCaughtUp, pause: nil, catchUpLimit: 5).step, .pauseWrites,
                       "a replica caught up before the pause can fall behind again: pause first")
        let waiting = PreStopDecision.handover(oneCaughtUp, pause: paused, catchUpLimit: 5)
        XCTAssertEqual(waiting.step, .waitForReplicas,
                       "Sentinel may promote the replica still behind, so the failover waits for it")
        XCTAssertTrue(waiting.reason.contains("10.0.0.3:6379@80"), waiting.reason)
        let allCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 104], masterOffset: 130)
        let plan = PreStopDecision.handover(allCaughtUp, pause: paused, catchUpLimit: 5)
        XCTAssertEqual(plan.step, .requestFailover,
                       "offsets past the pause (Sentinel's hello messages) do not hold the failover back")
        XCTAssertTrue(plan.reason.contains("every online replica caught up"), plan.reason)
    }

    func testALaggingReplicaHoldsTheFailoverOnlyUntilTheCatchUpLimit() {
        let oneCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 80], masterOffset: 100)
        let plan = PreStopDecision.handover(oneCaughtUp, pause: WritePause(offset: 100, seconds: 5), catchUpLimit: 5)
        XCTAssertEqual(plan.step, .requestFailover)
        XCTAssertTrue(plan.reason.contains("still behind: 10.0.0.3:6379"), plan.reason)
        let noneCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 90, r3: 80], masterOffset: 100)
        XCTAssertEqual(PreStopDecision.handover(noneCaughtUp, pause: WritePause(offset: 100, seconds: 9), catchUpLimit: 5).step,
                       .waitForReplicas)
    }

    func testOldRedisWithoutWritePauseFailsOverOnceCaughtUp() {
        let behind = PreStopSnapshot(redis: master, onlineReplicas: [r2: 90], masterOffset: 100, canPauseWritesOnly: false)
        XCTAssertEqual(PreStopDecision.handover(behind, pause: nil, catchUpLimit: 5).step, .waitForReplicas)
        let caughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 90], masterOffset: 100, canPauseWritesOnly: false)
        XCTAssertEqual(PreStopDecision.handover(caughtUp, pause: nil, catchUpLimit: 5).step, .requestFailover)
    }

    func testHandoverIsDoneOnlyOnceAMajorityOfSentinelsNameTheNewMaster() {
        var seen = HandoverProgress(me: r1, localNames: r2, localFailoverInProgress: true, othersName: [r1, r1],
                                    sentinelCount: 3, namedAnswersAsMaster: true)
        XCTAssertFalse(PreStopDecision.handoverDone(seen).done,
                       "the leader names the promoted replica while it still reconfigures the others")
        seen.localFailoverInProgress = false
        let waiting = PreStopDecision.handoverDone(seen)
        XCTAssertFalse(waiting.done)
        XCTAssertTrue(waiting.reason.contains("1 of 3 sentinels"), waiting.reason)
        seen.othersName = [r2, r1]
        let done = PreStopDecision.handoverDone(seen)
        XCTAssertTrue(done.done, done.reason)
        XCTAssertTrue(done.reason.contains("2 of 3 sentinels name 10.0.0.2:6379"), done.reason)
        seen.namedAnswersAsMaster = false
        XCTAssertFalse(PreStopDecision.handoverDone(seen).done)
        XCTAssertFalse(PreStopDecision.handoverDone(HandoverProgress(
            me: r1, localNames: r1, localFailoverInProgress: false, othersName: [r1, r1], sentinelCount: 3,
            namedAnswersAsMaster: true)).done)
    }

    func testResetsOneSentinelAtATimeInAddressOrder() {
        let views = [
            SentinelView(sentinel: s3, failoverInProgress: false, replicas: [r1, r2], sentinels: [s1, s2]),
            SentinelView(sentinel: s2, failoverInProgress: false, replicas: [r1, r3], sentinels: [s1, s3]),
        ]
        XCTAssertEqual(SentinelResetDecision.next(views: views, myRedis: r1, mySentinel: s1).step, .reset(s2))
    }

    func testWaitsWhileAResetSentinelRelearnsThePeers() {
        let views = [
            SentinelView(sentinel: s2, failoverInProgress: false, replicas: [], sentinels: []),
            SentinelView(sentinel: s3, failoverInProgress: false, replicas: [r1, r2], sentinels: [s1, s2]),
        ]
        let plan = SentinelResetDecision.next(views: views, myRedis: r1, mySentinel: s1)
        XCTAssertEqual(plan.step, .wait)
        XCTAssertTrue(plan.reason.contains("0 of 1 replicas"), plan.reason)
    }

    func testResetsTheNextOnceTheFirstRelearned() {
        let views = [
            SentinelView(sentinel: s2, failoverInProgress: false, replicas: [r3], sentinels: [s3]),
            SentinelView(sentinel: s3, failoverInProgress: false, replicas: [r1, r2], sentinels: [s1, s2]),
        ]
        XCTAssertEqual(SentinelResetDecision.next(views: views, myRedis: r1, mySentinel: s1).step, .reset(s3))
    }

    func testNeverResetsDuringAFailover() {
        let views = [SentinelView(sentinel: s2, failoverInProgress: true, replicas: [r1], sentinels: [s1])]
        XCTAssertEqual(SentinelResetDecision.next(views: views, myRedis: r1, mySentinel: s1).step, .wait)
    }

    func testDoneAfterTheLastResetWithoutWaitingForItsRediscovery() {
        let views = [
            SentinelView(sentinel: s2, failoverInProgress: false, replicas: [r3], sentinels: [s3]),
            SentinelView(sentinel: s3, failoverInProgress: false, replicas: [], sentinels: []),
        ]
        let plan = SentinelResetDecision.next(views: views, myRedis: r1, mySentinel: s1)
        XCTAssertEqual(plan.step, .done)
        XCTAssertTrue(plan.reason.contains("10.0.0.3:26379 still rediscovering"), plan.reason)
    }

    func testDoneWhenNobodyRemembersThisNode() {
        let views = [SentinelView(sentinel: s2, failoverInProgress: false, replicas: [r3], sentinels: [s3])]
        XCTAssertEqual(SentinelResetDecision.next(views: views, myRedis: r1, mySentinel: s1).step, .done)
        XCTAssertEqual(SentinelResetDecision.next(views: [], myRedis: r1, mySentinel: s1).step, .done)
    }

    func testCapacityNoteForSmallClusters() {
        XCTAssertNotNil(FailoverCapacity.note(sentinels: 2, quorum: 2))
        XCTAssertNotNil(FailoverCapacity.note(sentinels: 3, quorum: 4))
        XCTAssertNil(FailoverCapacity.note(sentinels: 3, quorum: 2))
    }
}
