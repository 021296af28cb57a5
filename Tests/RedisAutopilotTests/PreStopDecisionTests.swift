import XCTest
@testable import RedisAutopilot

final class PreStopDecisionTests: XCTestCase {
    let r1 = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let r2 = try! NodeAddress(host: "10.0.0.2", port: 6379)
    let r3 = try! NodeAddress(host: "10.0.0.3", port: 6379)
    let s1 = try! NodeAddress(host: "10.0.0.1", port: 26379)
    let s2 = try! NodeAddress(host: "10.0.0.2", port: 26379)
    let s3 = try! NodeAddress(host: "10.0.0.3", port: 26379)

    private let master = RedisObservation.master(connectedReplicas: 2, loading: false)

    func testReplicaAndDeadRedisSkipTheHandover() {
        XCTAssertEqual(PreStopDecision.handover(PreStopSnapshot(redis: .replica(of: r2, linkUp: true, loading: false)), pause: nil, catchUpLimit: .seconds(5)).step, .skip)
        XCTAssertEqual(PreStopDecision.handover(PreStopSnapshot(redis: .unreachable(reason: "refused")), pause: nil, catchUpLimit: .seconds(5)).step, .skip)
    }

    func testLoneMasterSkipsAndSaysWritesStop() {
        let plan = PreStopDecision.handover(PreStopSnapshot(redis: master), pause: nil, catchUpLimit: .seconds(5))
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("no online replica"), plan.reason)
    }

    func testMasterWithoutSentinelCannotHandOver() {
        let plan = PreStopDecision.handover(PreStopSnapshot(redis: master, onlineReplicas: [r2: 5], masterOffset: 5, sentinelReachable: false), pause: nil, catchUpLimit: .seconds(5))
        XCTAssertEqual(plan.step, .skip)
    }

    func testRunningFailoverIsAwaited() {
        let plan = PreStopDecision.handover(PreStopSnapshot(redis: master, onlineReplicas: [r2: 5], failoverInProgress: true), pause: nil, catchUpLimit: .seconds(5))
        XCTAssertEqual(plan.step, .awaitRunningFailover)
    }

    func testWritesArePausedFirstThenFailoverOnceEveryReplicaCaughtUp() {
        let behind = PreStopSnapshot(redis: master, onlineReplicas: [r2: 90, r3: 80], masterOffset: 100)
        XCTAssertEqual(PreStopDecision.handover(behind, pause: nil, catchUpLimit: .seconds(5)).step, .pauseWrites)
        let paused = WritePause(offset: 100, held: .milliseconds(500))
        XCTAssertEqual(PreStopDecision.handover(behind, pause: paused, catchUpLimit: .seconds(5)).step, .waitForReplicas)
        let oneCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 80], masterOffset: 120)
        XCTAssertEqual(PreStopDecision.handover(oneCaughtUp, pause: nil, catchUpLimit: .seconds(5)).step, .pauseWrites,
                       "a replica caught up before the pause can fall behind again: pause first")
        let waiting = PreStopDecision.handover(oneCaughtUp, pause: paused, catchUpLimit: .seconds(5))
        XCTAssertEqual(waiting.step, .waitForReplicas,
                       "Sentinel may promote the replica still behind, so the failover waits for it")
        XCTAssertTrue(waiting.reason.contains("10.0.0.3:6379@80"), waiting.reason)
        let allCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 104], masterOffset: 130)
        let plan = PreStopDecision.handover(allCaughtUp, pause: paused, catchUpLimit: .seconds(5))
        XCTAssertEqual(plan.step, .requestFailover,
                       "offsets past the pause (Sentinel's hello messages) do not hold the failover back")
        XCTAssertTrue(plan.reason.contains("every online replica caught up"), plan.reason)
    }

    func testALaggingReplicaHoldsTheFailoverOnlyUntilTheCatchUpLimit() {
        let oneCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 100, r3: 80], masterOffset: 100)
        let plan = PreStopDecision.handover(oneCaughtUp, pause: WritePause(offset: 100, held: .milliseconds(5000)), catchUpLimit: .seconds(5))
        XCTAssertEqual(plan.step, .requestFailover)
        XCTAssertTrue(plan.reason.contains("still behind: 10.0.0.3:6379"), plan.reason)
        let noneCaughtUp = PreStopSnapshot(redis: master, onlineReplicas: [r2: 90, r3: 80], masterOffset: 100)
        XCTAssertEqual(PreStopDecision.handover(noneCaughtUp, pause: WritePause(offset: 100, held: .milliseconds(9000)), catchUpLimit: .seconds(5)).step,
                       .waitForReplicas)
    }

    func testHandoverIsDoneOnlyOnceAMajorityOfSentinelsNameTheNewMaster() {
        var seen = HandoverProgress(me: r1, localMaster: r2, localFailoverInProgress: true, otherSentinelsMasters: [r1, r1],
                                    sentinelCount: 3, namedAnswersAsMaster: true)
        XCTAssertFalse(PreStopDecision.handoverDone(seen).done,
                       "the leader names the promoted replica while it still reconfigures the others")
        seen.localFailoverInProgress = false
        let waiting = PreStopDecision.handoverDone(seen)
        XCTAssertFalse(waiting.done)
        XCTAssertTrue(waiting.reason.contains("1 of 3 sentinels"), waiting.reason)
        seen.otherSentinelsMasters = [r2, r1]
        let done = PreStopDecision.handoverDone(seen)
        XCTAssertTrue(done.done, done.reason)
        XCTAssertTrue(done.reason.contains("2 of 3 sentinels name 10.0.0.2:6379"), done.reason)
        seen.namedAnswersAsMaster = false
        XCTAssertFalse(PreStopDecision.handoverDone(seen).done)
        XCTAssertFalse(PreStopDecision.handoverDone(HandoverProgress(
            me: r1, localMaster: r1, localFailoverInProgress: false, otherSentinelsMasters: [r1, r1], sentinelCount: 3,
            namedAnswersAsMaster: true)).done)
    }

    // MARK: sentinel resets

    /// Node n: Redis 10.0.0.n:6379, Sentinel 10.0.0.n:26379. This node is 1,
    /// the master is 2.
    private func redis(_ n: Int) -> NodeAddress { try! NodeAddress(host: "10.0.0.\(n)", port: 6379) }
    private func sentinel(_ n: Int) -> NodeAddress { try! NodeAddress(host: "10.0.0.\(n)", port: 26379) }

    /// Sentinel n's view of a cluster of nodes 1...size: it knows every
    /// replica and sentinel but those in `forgot` (1 = this node).
    private func view(_ n: Int, of size: Int, forgot: Set<Int> = [], failover: Bool = false, detached: Set<NodeAddress> = []) -> SentinelView {
        SentinelView(
            sentinel: sentinel(n), failoverInProgress: failover,
            replicas: (1...size).filter { $0 != 2 && !forgot.contains($0) }.map(redis),
            sentinels: (1...size).filter { $0 != n && !forgot.contains($0) }.map(sentinel),
            detached: detached)
    }

    /// Sentinel n just reset: it forgot everything, this node included.
    private func reset(_ n: Int, of size: Int) -> SentinelView {
        view(n, of: size, forgot: Set(1...size))
    }

    /// Sentinel n reset and rediscovered everyone still there.
    private func relearned(_ n: Int, of size: Int) -> SentinelView {
        view(n, of: size, forgot: [1])
    }

    private func plan(_ views: [SentinelView], asked: Int? = nil) -> ResetPlan {
        SentinelResetDecision.next(views: views, asked: asked ?? views.count, myRedis: redis(1), mySentinel: sentinel(1))
    }

    func testResetsAsManyAtOnceAsLeaveAMajorityKnowingTheCluster() {
        // remaining sentinels -> majority, how many may rediscover at once
        let cases = [(2, 2, 1), (3, 2, 1), (4, 3, 1), (5, 3, 2), (6, 4, 2), (7, 4, 3)]
        for (remaining, majority, atOnce) in cases {
            let size = remaining + 1
            let result = plan((2...size).reversed().map { view($0, of: size) })
            XCTAssertEqual(result.step, .reset((2...(1 + atOnce)).map(sentinel)), "\(remaining) remaining: \(result.reason)")
            XCTAssertTrue(result.reason.contains("\(remaining) sentinels (majority \(majority), \(atOnce) may rediscover at once)"),
                          result.reason)
        }
    }

    func testARediscoveringSentinelHoldsTheNextResetWhenItTakesTheOnlyRoom() {
        let views = [reset(2, of: 5), view(3, of: 5), view(4, of: 5), view(5, of: 5)]
        let result = plan(views)
        XCTAssertEqual(result.step, .wait)
        XCTAssertTrue(result.reason.contains("rediscovering: 10.0.0.2:26379 (0 of 3 replicas, 0 of 3 sentinels)"), result.reason)
        XCTAssertTrue(result.reason.contains("still listing this node: 10.0.0.3:26379, 10.0.0.4:26379, 10.0.0.5:26379"), result.reason)
        let knowsTheSentinelsOnly = SentinelView(sentinel: sentinel(2), failoverInProgress: false, replicas: [],
                                                 sentinels: [sentinel(3), sentinel(4), sentinel(5)])
        let stillWaiting = plan([knowsTheSentinelsOnly] + views.dropFirst())
        XCTAssertEqual(stillWaiting.step, .wait, "the replicas come from the master's INFO, after the hellos")
        XCTAssertTrue(stillWaiting.reason.contains("(0 of 3 replicas, 3 of 3 sentinels)"), stillWaiting.reason)
        XCTAssertEqual(plan([relearned(2, of: 5)] + views.dropFirst()).step, .reset([sentinel(3)]))
    }

    func testTheNextAreResetAsSoonAsThereIsRoomNotWhenTheWholeBatchRelearned() {
        // Seven remaining, three at once: two still rediscovering leave room for one.
        let size = 8
        let views = [reset(2, of: size), reset(3, of: size), relearned(4, of: size)] + (5...size).map { view($0, of: size) }
        XCTAssertEqual(plan(views).step, .reset([sentinel(5)]))
        let full = [reset(2, of: size), reset(3, of: size), reset(4, of: size)] + (5...size).map { view($0, of: size) }
        let blocked = plan(full)
        XCTAssertEqual(blocked.step, .wait)
        XCTAssertTrue(blocked.reason.contains("rediscovering: 10.0.0.2:26379 (0 of 6 replicas, 0 of 6 sentinels), 10.0.0.3:26379"),
                      blocked.reason)
    }

    func testSentinelsThatAlreadyForgotThisNodeAreNeverReset() {
        // Seven remaining, three at once, one rediscovering: room for two.
        let size = 8
        let views = [relearned(2, of: size), reset(3, of: size), relearned(4, of: size)] + (5...size).map { view($0, of: size) }
        XCTAssertEqual(plan(views).step, .reset([sentinel(5), sentinel(6)]),
                       "the relearned 2 and 4 and the rediscovering 3 need nothing")
    }

    func testSentinelsNotAnsweringCountAsNotKnowingTheCluster() {
        // Six asked, two at once, one silent: one left while nobody rediscovers.
        let answering = (3...7).map { view($0, of: 7) }
        XCTAssertEqual(plan(answering, asked: 6).step, .reset([sentinel(3)]))
        let result = plan([reset(3, of: 7)] + (4...7).map { view($0, of: 7) }, asked: 6)
        XCTAssertEqual(result.step, .wait)
        XCTAssertTrue(result.reason.contains("1 not answering"), result.reason)
        // Three silent of six: still one at a time, as before batches.
        XCTAssertEqual(plan([view(5, of: 7), view(6, of: 7), view(7, of: 7)], asked: 6).step, .reset([sentinel(5)]))
    }

    func testSentinelsOthersListAliveCountEvenWhenNotAsked() {
        // Consul listed four, but the sentinels know six alive: two at once, minus two not answering.
        let views = (3...6).map { view($0, of: 7) }
        let result = plan(views, asked: 4)
        XCTAssertEqual(result.step, .reset([sentinel(3)]))
        XCTAssertTrue(result.reason.contains("6 sentinels (majority 4, 2 may rediscover at once), 2 not answering"), result.reason)
    }

    func testNodesFlaggedDownAreNotWaitedFor() {
        // Node 6 failed (or left earlier without being forgotten): the sentinels
        // never reset still list it, flagged down; a reset one never relearns it.
        let gone: Set<NodeAddress> = [redis(6), sentinel(6)]
        let views = [view(2, of: 5, forgot: [1, 6]), view(3, of: 6, detached: gone), view(4, of: 6, detached: gone),
                     view(5, of: 6, detached: gone)]
        XCTAssertEqual(plan(views).step, .reset([sentinel(3)]))
        let notFlagged = [view(2, of: 5, forgot: [1, 6]), view(3, of: 6), view(4, of: 6), view(5, of: 6)]
        let waiting = plan(notFlagged)
        XCTAssertEqual(waiting.step, .wait, "a node still up must be rediscovered")
        XCTAssertTrue(waiting.reason.contains("10.0.0.2:26379 (3 of 4 replicas, 3 of 4 sentinels; not yet 10.0.0.6:6379, 10.0.0.6:26379)"),
                      waiting.reason)
    }

    func testAReplicaNotReplicatingFromTheMasterIsNotWaitedFor() {
        // Replica 5 still follows this departed master (its link is down until
        // Sentinel repoints it): the master's INFO does not list it, so a reset
        // sentinel cannot know it yet.
        let unlinked: Set<NodeAddress> = [redis(5)]
        let views = [view(2, of: 5, forgot: [1, 5]).with(sentinels: [sentinel(3), sentinel(4), sentinel(5)]),
                     view(3, of: 5, detached: unlinked), view(4, of: 5, detached: unlinked), view(5, of: 5, detached: unlinked)]
        XCTAssertEqual(plan(views).step, .reset([sentinel(3)]))
    }

    func testASentinelStillListingThisNodeIsResetWhateverElseItLacks() {
        let lacksAReplica = view(2, of: 4, forgot: [3])
        XCTAssertEqual(plan([lacksAReplica, relearned(3, of: 4), relearned(4, of: 4)]).step, .reset([sentinel(2)]))
    }

    func testNeverResetsDuringAFailover() {
        let result = plan([view(2, of: 3), view(3, of: 3, failover: true)])
        XCTAssertEqual(result.step, .wait)
        XCTAssertTrue(result.reason.contains("10.0.0.3:26379 reports a failover in progress"), result.reason)
    }

    func testDoneAfterTheLastResetWithoutWaitingForItsRediscovery() {
        let result = plan([relearned(2, of: 7), reset(3, of: 7), reset(4, of: 7)] + (5...7).map { relearned($0, of: 7) })
        XCTAssertEqual(result.step, .done)
        XCTAssertTrue(result.reason.contains("no sentinel lists this node any more"), result.reason)
        XCTAssertTrue(result.reason.contains("rediscovering: 10.0.0.3:26379 (0 of 5 replicas, 0 of 5 sentinels), 10.0.0.4:26379"),
                      result.reason)
    }

    func testDoneWhenNobodyRemembersThisNode() {
        XCTAssertEqual(plan([relearned(2, of: 3), relearned(3, of: 3)]).step, .done)
        XCTAssertEqual(plan([], asked: 2).step, .done)
        XCTAssertEqual(plan([]).step, .done)
    }

    func testCapacityNoteForSmallClusters() {
        XCTAssertNotNil(FailoverCapacity.note(sentinels: 2, quorum: 2))
        XCTAssertNotNil(FailoverCapacity.note(sentinels: 3, quorum: 4))
        XCTAssertNil(FailoverCapacity.note(sentinels: 3, quorum: 2))
    }
}

private extension SentinelView {
    func with(sentinels: [NodeAddress]) -> SentinelView {
        var copy = self
        copy.sentinels = sentinels
        return copy
    }
}
