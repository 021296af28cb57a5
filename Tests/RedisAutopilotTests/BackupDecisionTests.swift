import XCTest
@testable import RedisAutopilot

final class BackupDecisionTests: XCTestCase {
    private let me = try! NodeAddress(host: "10.0.0.2", port: 6379)
    private let master = try! NodeAddress(host: "10.0.0.1", port: 6379)
    private let otherReplica = try! NodeAddress(host: "10.0.0.3", port: 6379)
    private let interval = 3600.0
    private let now: Int64 = 1_800_000_000

    private var upReplica: RedisObservation { .replica(of: master, linkUp: true, loading: false) }

    private func decide(_ redis: RedisObservation, replicas: [NodeAddress] = [], last: LastBackupTime = .none,
                        lock: BackupLockState = .free, forced: Bool = false) -> BackupPlan {
        BackupDecision.decide(BackupSnapshot(now: now, me: me, redis: redis, passingReplicas: replicas,
                                             lastBackup: last, lock: lock, forced: forced), interval: interval)
    }

    func testUnreachableRedisSkipsAndRefusesWhenForced() {
        let plan = decide(.unreachable(reason: "connection refused"))
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("connection refused"), plan.reason)
        XCTAssertEqual(decide(.unreachable(reason: "x"), forced: true).step, .refuse)
    }

    func testLoadingRedisSkips() {
        XCTAssertEqual(decide(.master(connectedReplicas: 0, loading: true)).step, .skip)
        XCTAssertEqual(decide(.replica(of: master, linkUp: true, loading: true)).step, .skip)
        XCTAssertEqual(decide(.replica(of: master, linkUp: true, loading: true), forced: true).step, .refuse)
    }

    func testReplicaWithLinkDownSkipsEvenWhenDue() {
        let plan = decide(.replica(of: master, linkUp: false, loading: false), replicas: [me])
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("link to \(master) is down"), plan.reason)
        XCTAssertEqual(decide(.replica(of: nil, linkUp: false, loading: false), forced: true).step, .refuse)
    }

    func testNotDueSkipsOnEveryRole() {
        let recent = LastBackupTime.at(unixSeconds: now - 100)
        let plan = decide(upReplica, replicas: [me], last: recent)
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("100s ago"), plan.reason)
        XCTAssertEqual(decide(.master(connectedReplicas: 0, loading: false), last: recent).step, .skip)
    }

    func testExactlyOneIntervalLaterIsDue() {
        XCTAssertEqual(decide(upReplica, last: .at(unixSeconds: now - 3600)).step, .acquireLock)
        XCTAssertEqual(decide(upReplica, last: .at(unixSeconds: now - 3599)).step, .skip)
    }

    func testReplicaWithLinkUpTakesTheLockThenTheBackup() {
        XCTAssertEqual(decide(upReplica, replicas: [me, otherReplica]).step, .acquireLock)
        let plan = decide(upReplica, replicas: [me, otherReplica], lock: .heldByMe)
        XCTAssertEqual(plan.step, .takeBackup)
        XCTAssertTrue(plan.reason.contains("never recorded"), plan.reason)
    }

    func testLockHeldByAnotherNodeSkipsOrRefuses() {
        let plan = decide(upReplica, lock: .heldByOther(holder: "10.0.0.3:6379"))
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("10.0.0.3:6379"), plan.reason)
        XCTAssertEqual(decide(upReplica, lock: .heldByOther(holder: "x"), forced: true).step, .refuse)
    }

    func testMasterLeavesItToPassingReplicas() {
        let plan = decide(.master(connectedReplicas: 2, loading: false), replicas: [otherReplica])
        XCTAssertEqual(plan.step, .skip)
        XCTAssertTrue(plan.reason.contains("leaving it to them"), plan.reason)
        XCTAssertTrue(plan.reason.contains("10.0.0.3:6379"), plan.reason)
    }

    func testMasterAloneTakesIt() {
        XCTAssertEqual(decide(.master(connectedReplicas: 0, loading: false)).step, .acquireLock)
        // Consul still listing this node as replica (just promoted) is not another replica.
        XCTAssertEqual(decide(.master(connectedReplicas: 0, loading: false), replicas: [me]).step, .acquireLock)
        XCTAssertEqual(decide(.master(connectedReplicas: 0, loading: false), lock: .heldByMe).step, .takeBackup)
    }

    func testMasterTakesABackupOverdueByAWholeInterval() {
        let master = RedisObservation.master(connectedReplicas: 1, loading: false)
        XCTAssertEqual(decide(master, replicas: [otherReplica], last: .at(unixSeconds: now - 7199)).step, .skip)
        let plan = decide(master, replicas: [otherReplica], last: .at(unixSeconds: now - 7200))
        XCTAssertEqual(plan.step, .acquireLock)
        XCTAssertTrue(plan.reason.contains("overdue"), plan.reason)
    }

    func testForcedSkipsIntervalAndRolePreferenceButNotTheLock() {
        let master = RedisObservation.master(connectedReplicas: 1, loading: false)
        let recent = LastBackupTime.at(unixSeconds: now - 5)
        XCTAssertEqual(decide(master, replicas: [otherReplica], last: recent, forced: true).step, .acquireLock)
        let plan = decide(master, replicas: [otherReplica], last: recent, lock: .heldByMe, forced: true)
        XCTAssertEqual(plan.step, .takeBackup)
        XCTAssertTrue(plan.reason.contains("--now"), plan.reason)
    }

    /// Issue 12, finding 3: any Int64 in last-backup-time was trusted;
    /// Int64.min trapped `now - time` in every node's backup job, and a
    /// far-future time would have stopped backups for good.
    func testAHostileLastBackupTimeNeitherTrapsNorStopsBackups() {
        for time in [Int64.min, Int64.max, now + 86400 * 365, now + BackupDecision.allowedClockSkew + 1] {
            let plan = decide(upReplica, last: .at(unixSeconds: time))
            XCTAssertEqual(plan.step, .acquireLock, "\(time)")
            XCTAssertTrue(plan.reason.contains("unusable") && plan.reason.contains("\(time)"), plan.reason)
            XCTAssertEqual(decide(.master(connectedReplicas: 1, loading: false), replicas: [otherReplica], last: .at(unixSeconds: time)).step,
                           .skip, "a master still leaves it to the replicas")
        }
        // Within clock skew, a time just ahead is a backup just taken.
        XCTAssertEqual(decide(upReplica, last: .at(unixSeconds: now + 60)).step, .skip)
    }

    func testUnreadableLastTimeCountsAsDue() {
        let plan = decide(upReplica, last: .unreadable("yesterday"))
        XCTAssertEqual(plan.step, .acquireLock)
        XCTAssertTrue(plan.reason.contains("\"yesterday\""), plan.reason)
    }
}

final class BackupNamingTests: XCTestCase {
    func testNameIsUTCFromTheSaveTime() throws {
        XCTAssertEqual(try BackupNaming.name(forSaveTime: 0), "dump-19700101000000.rdb.gz")
        XCTAssertEqual(try BackupNaming.name(forSaveTime: 1_764_090_061), "dump-20251125170101.rdb.gz")
        XCTAssertEqual(BackupCatalog.utcText(1_764_090_061), "2025-11-25 17:01:01")
        XCTAssertEqual(try BackupNaming.name(forSaveTime: 253_402_300_799), "dump-99991231235959.rdb.gz")
    }

    func testATimeNoNameCanHoldIsRefused() {
        for time in [Int64(253_402_300_800), 67_768_036_191_676_799, Int64.max, Int64.min, -62_167_219_201] {
            XCTAssertThrowsError(try BackupNaming.name(forSaveTime: time), "\(time)")
        }
    }

    func testMetadataKeyHasNoGzExtension() {
        XCTAssertEqual(BackupKeys.metadata(for: "dump-20251125170101.rdb.gz"), "service/redis/backups/dump-20251125170101")
        XCTAssertEqual(BackupKeys.metadata(for: "other.bin"), "service/redis/backups/other.bin")
    }

    func testTaskBackupNames() {
        XCTAssertTrue(BackupNaming.isTaskBackup("dump-20251125170101.rdb.gz"))
        for name in ["dump-2025112517010.rdb.gz", "dump-20251125170101.rdb", "x-20251125170101.rdb.gz",
                     "dump-2025112517010a.rdb.gz", "dump-.rdb.gz", "notes.txt"] {
            XCTAssertFalse(BackupNaming.isTaskBackup(name), name)
        }
    }

    func testRetentionKeepsNewestAndNeverTheRecordedOne() {
        let stored = ["dump-20250101000000.rdb.gz", "dump-20250103000000.rdb.gz", "dump-20250102000000.rdb.gz",
                      "notes.txt", "dump-20250104000000.rdb.gz"]
        XCTAssertEqual(RetentionPlan.namesToDelete(stored: stored, keep: 2, protected: "dump-20250104000000.rdb.gz"),
                       ["dump-20250101000000.rdb.gz", "dump-20250102000000.rdb.gz"])
        XCTAssertEqual(RetentionPlan.namesToDelete(stored: stored, keep: 0, protected: ""), [])
        XCTAssertEqual(RetentionPlan.namesToDelete(stored: stored, keep: 10, protected: ""), [])
        // A recorded backup older than the newest N (clock went back) stays.
        XCTAssertEqual(RetentionPlan.namesToDelete(stored: stored, keep: 1, protected: "dump-20250101000000.rdb.gz"),
                       ["dump-20250102000000.rdb.gz", "dump-20250103000000.rdb.gz"])
    }
}

final class RestorePlanTests: XCTestCase {
    func testLocalDataIsKept() {
        let plan = RestorePlan.decide(localData: ["appendonlydir/"], lastBackup: "dump-20250101000000.rdb.gz")
        XCTAssertEqual(plan.step, .keepLocalData)
        XCTAssertTrue(plan.reason.contains("appendonlydir/"), plan.reason)
    }

    func testNoRecordedBackupStartsEmpty() {
        XCTAssertEqual(RestorePlan.decide(localData: [], lastBackup: nil).step, .startEmpty)
        XCTAssertEqual(RestorePlan.decide(localData: [], lastBackup: " \n").step, .startEmpty)
    }

    func testRecordedBackupIsRestored() {
        XCTAssertEqual(RestorePlan.decide(localData: [], lastBackup: "dump-20250101000000.rdb.gz\n").step,
                       .restore(name: "dump-20250101000000.rdb.gz"))
    }
}
