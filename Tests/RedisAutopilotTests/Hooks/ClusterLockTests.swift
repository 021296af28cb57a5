import XCTest
@testable import RedisAutopilot

/// The one session lock, bootstrap and backup alike, on the fake cluster.
final class ClusterLockTests: XCTestCase {
    func testTheBootstrapSessionOutlivesTheProcessInTheRunDirectory() throws {
        let world = try FakeWorld()
        XCTAssertTrue(try world.bootstrapLock.acquire())
        let session = try XCTUnwrap(world.bootstrapLock.session, "a later health run finds it")
        XCTAssertTrue(try world.bootstrapLock.isHeld())
        try world.bootstrapLock.release()
        XCTAssertNil(world.bootstrapLock.session)
        XCTAssertNil(world.cluster.locks[ClusterNames.bootstrapLockKey])
        XCTAssertFalse(world.cluster.sessions.contains(session), "the session is destroyed with the release")
    }

    func testABusyLockIsNotTaken() throws {
        let world = try FakeWorld()
        world.cluster.sessions.insert("theirs")
        world.cluster.locks[BackupKeys.lock] = "theirs"
        let lock = ClusterLock.backup(cluster: world.cluster, identity: world.identity)
        XCTAssertFalse(try lock.acquire())
        XCTAssertNotNil(lock.session, "kept for the next attempt")
        XCTAssertFalse(try lock.isHeld())
    }

    func testALostSessionIsForgottenAndTheNextAcquireStartsANewOne() throws {
        for lock in [try FakeWorld().bootstrapLock, ClusterLock.backup(cluster: FakeCluster(), identity: try FakeWorld().identity)] {
            let cluster = try XCTUnwrap(lock.cluster as? FakeCluster)
            XCTAssertTrue(try lock.acquire())
            let first = try XCTUnwrap(lock.session)
            cluster.expire(first)
            XCTAssertFalse(try lock.renew(), "renew says the lock is gone")
            XCTAssertNil(lock.session)
            XCTAssertTrue(try lock.acquire())
            XCTAssertNotEqual(lock.session, first)
            cluster.expire(try XCTUnwrap(lock.session))
            XCTAssertFalse(try lock.acquire(), "an acquire on a lost session takes nothing")
            XCTAssertNil(lock.session)
            XCTAssertNoThrow(try lock.release(), "nothing left to release")
        }
    }

    func testTheRenewerSaysWhenTheSessionIsLost() throws {
        let cluster = FakeCluster()
        let lock = ClusterLock.backup(cluster: cluster, identity: try FakeWorld().identity)
        XCTAssertTrue(try lock.acquire())
        let renewer = try XCTUnwrap(lock.renewer(every: .milliseconds(10)))
        renewer.start()
        defer { renewer.stop() }
        cluster.expire(try XCTUnwrap(lock.session))
        let deadline = Date(timeIntervalSinceNow: 5)
        while !renewer.isLost && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertTrue(renewer.isLost)
    }
}

/// The loop every hook runs.
final class HookDriverTests: XCTestCase {
    private struct Plan: HookPlan {
        var reason: String
        var done: Bool
    }

    func testOneCycleRunsEvenWithNoTimeLeftAndTheDeadlineEndsTheRest() throws {
        let world = try FakeWorld()
        var observed: [Duration] = []
        let result: Int? = try HookDriver(clock: world.clock, log: world.log("test")).run(
            until: .after(.seconds(3), on: world.clock),
            observe: { elapsed in observed.append(elapsed); return observed.count },
            decide: { Plan(reason: "seen \($0 > 1 ? "again" : "once")", done: false) },
            act: { _ in .again(after: .seconds(1)) })
        XCTAssertNil(result)
        XCTAssertEqual(observed, [.zero, .seconds(1), .seconds(2)])
        XCTAssertEqual(world.lines.all.filter { $0.contains("seen again") }.count, 2, "a repeated reason is still logged, at DEBUG")
        XCTAssertEqual(world.lines.all.filter { $0.contains("INFO") }.count, 2)

        var cycles = 0
        let once: Int? = try HookDriver(clock: world.clock, log: world.log("test")).run(
            until: .after(.zero, on: world.clock), observe: { _ in cycles += 1 }, decide: { Plan(reason: "done", done: true) },
            act: { _ in .done(7) })
        XCTAssertEqual(once, 7)
        XCTAssertEqual(cycles, 1)
    }

    func testAPauseNeverOutlastsTheDeadline() throws {
        let world = try FakeWorld()
        let result: Void? = try HookDriver(clock: world.clock, log: world.log("test")).run(
            until: .after(.seconds(2), on: world.clock), observe: { _ in }, decide: { Plan(reason: "wait", done: false) },
            act: { _ in .again(after: .seconds(60)) })
        XCTAssertNil(result)
        XCTAssertEqual(world.clock.now, .seconds(2))
    }
}
