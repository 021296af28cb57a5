import Foundation

/// What Consul's `last-backup-time` says.
enum LastBackupTime: Sendable, Equatable {
    case none
    case at(unixSeconds: Int64)
    /// Present but not a whole number; shown shortened in the reason.
    case unreadable(String)
}

/// Who holds `service/redis/backups/lock`.
enum BackupLockState: Sendable, Equatable {
    case free
    case heldByMe
    case heldByOther(holder: String)
}

/// What the backup task saw in one observation.
struct BackupSnapshot: Sendable, Equatable {
    var now: Int64
    var me: NodeAddress
    var redis: RedisObservation
    /// `redis-replica` instances Consul reports passing, this node included if it is one.
    var passingReplicas: [NodeAddress]
    var lastBackup: LastBackupTime
    var lock: BackupLockState
    /// `backup --now`: an operator asks for a backup from this node.
    var forced: Bool

    init(now: Int64, me: NodeAddress, redis: RedisObservation, passingReplicas: [NodeAddress] = [],
                lastBackup: LastBackupTime = .none, lock: BackupLockState = .free, forced: Bool = false) {
        self.now = now
        self.me = me
        self.redis = redis
        self.passingReplicas = passingReplicas
        self.lastBackup = lastBackup
        self.lock = lock
        self.forced = forced
    }
}

enum BackupStep: Sendable, Equatable {
    /// Nothing to do on this node now; not an error.
    case skip
    /// A backup is due here and only the lock is missing: take it, observe again.
    case acquireLock
    /// Holding the lock and still due: BGSAVE, upload, record.
    case takeBackup
    /// An operator's `--now` cannot be done here.
    case refuse
}

struct BackupPlan: Sendable, Equatable {
    var step: BackupStep
    /// One sentence: what was seen and what is done.
    var reason: String
}

/// One backup per BACKUP_TTL for the whole cluster, preferably from a replica
/// so the master does not fork for it.
enum BackupDecision {
    static func decide(_ seen: BackupSnapshot, interval: Double) -> BackupPlan {
        let notHere: BackupStep = seen.forced ? .refuse : .skip
        let role: String
        switch seen.redis {
        case let .unreachable(reason):
            return BackupPlan(step: notHere, reason: "local Redis does not answer (\(reason)); no backup from this node")
        case .master(_, loading: true), .replica(_, _, loading: true):
            return BackupPlan(step: notHere, reason: "local Redis is still loading its dataset; no backup from this node")
        case let .replica(master, linkUp: false, _):
            return BackupPlan(step: notHere, reason: "this replica's link to \(master.map { "\($0)" } ?? "its master") is down, its data may be stale; no backup from this node")
        case .replica:
            role = "replica with its link up"
        case .master:
            role = "master"
        }

        let age = ageDescription(seen)
        if !seen.forced {
            if let seconds = Self.age(seen), Double(seconds) < interval {
                return BackupPlan(step: .skip, reason: "last backup \(age), BACKUP_TTL is \(Int(interval))s; not due")
            }
            if case .master = seen.redis {
                let replicas = Array(Set(seen.passingReplicas.filter { $0 != seen.me })).sorted()
                if !replicas.isEmpty && !isOverdue(seen, interval: interval) {
                    return BackupPlan(step: .skip, reason: "backup due (last \(age)) but this node is master and Consul lists passing replicas "
                        + "(\(replicas.map(\.description).joined(separator: ", "))); leaving it to them")
                }
            }
        }
        let why = seen.forced ? "backup asked for with --now on this \(role)" : "backup due (last \(age)) and this node is \(role)"
            + (isMasterTakingOverdue(seen, interval: interval) ? ", replicas passing but the backup is overdue by a whole BACKUP_TTL" : "")
        switch seen.lock {
        case let .heldByOther(holder):
            return BackupPlan(step: notHere, reason: "\(why); lock \(BackupKeys.lock) is held by \(holder), who is taking it")
        case .free:
            return BackupPlan(step: .acquireLock, reason: "\(why); taking the lock \(BackupKeys.lock)")
        case .heldByMe:
            return BackupPlan(step: .takeBackup, reason: "\(why); lock held, taking the backup")
        }
    }

    /// A replica should have taken it a whole interval ago: the master takes
    /// it rather than let a broken replica task leave the cluster without backups.
    private static func isOverdue(_ seen: BackupSnapshot, interval: Double) -> Bool {
        Self.age(seen).map { Double($0) >= 2 * interval } ?? false
    }

    /// Clocks of different nodes disagree by this much at most; a recorded
    /// time further ahead is not a time a backup was taken.
    static let allowedClockSkew: Int64 = 300

    /// Seconds since the recorded backup; nil when none is recorded or the
    /// value cannot be a past backup's time (ahead of now beyond clock skew,
    /// or so far back the difference overflows). Anyone who may write the
    /// key sets it: a far-future time must not stop backups for good, nor an
    /// Int64.min trap every node's backup job.
    static func age(_ seen: BackupSnapshot) -> Int64? {
        guard case let .at(time) = seen.lastBackup else { return nil }
        let (age, overflow) = seen.now.subtractingReportingOverflow(time)
        guard !overflow, age >= -allowedClockSkew else { return nil }
        return max(0, age)
    }

    private static func isMasterTakingOverdue(_ seen: BackupSnapshot, interval: Double) -> Bool {
        guard !seen.forced, case .master = seen.redis else { return false }
        return !seen.passingReplicas.filter { $0 != seen.me }.isEmpty && isOverdue(seen, interval: interval)
    }

    private static func ageDescription(_ seen: BackupSnapshot) -> String {
        switch seen.lastBackup {
        case .none: return "never recorded"
        case let .at(time):
            if let seconds = Self.age(seen) { return "\(seconds)s ago" }
            return "unusable, \(BackupKeys.lastBackupTime) holds \(time), not a past time"
        case let .unreadable(text): return "unknown, \(BackupKeys.lastBackupTime) holds \(String(text.prefix(40)).debugDescription)"
        }
    }
}
