import Glibc

/// Consul keys of the backup task. `last-backup` is the original project's
/// key; the others are new and documented in the README.
enum BackupKeys {
    /// Name of the newest good backup, as the original wrote it.
    static let lastBackup = "service/redis/last-backup"
    /// Unix seconds (UTC) of the save the newest good backup holds.
    static let lastBackupTime = "service/redis/last-backup-time"
    /// Held through a session by the node taking the cluster's backup.
    static let lock = "service/redis/backups/lock"
    /// Metadata JSON of each backup lives at this prefix plus its stem.
    static let metadataPrefix = "service/redis/backups/"

    /// Real Consul refuses keys ending in `.gz`, so the key carries the stem.
    static func metadata(for name: String) -> String {
        metadataPrefix + BackupNaming.stem(of: name)
    }
}

/// Backup names as the original wrote them: `dump-YYYYmmddHHMMSS.rdb.gz`,
/// UTC, from the time of the save. They sort by name in time order.
enum BackupNaming {
    static let prefix = "dump-"
    static let suffix = ".rdb.gz"

    /// Throws for a time outside years 0 to 9999, which no 14-digit name can hold.
    static func name(forSaveTime unixSeconds: Int64) throws -> String {
        guard let time = UTCTime(unixSeconds: unixSeconds) else {
            throw BackupError.saveFailed(reason: "rdb_last_save_time \(unixSeconds) is not a time from year 0 to 9999")
        }
        return prefix + time.year + time.month + time.day + time.hour + time.minute + time.second + suffix
    }

    /// The name without `.rdb.gz` (any other name is kept whole).
    static func stem(of name: String) -> String {
        name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
    }

    /// True for names this task writes: the prefix, 14 digits, the suffix.
    /// Retention touches nothing else in the store.
    static func isTaskBackup(_ name: String) -> Bool {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return false }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        return digits.count == 14 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

/// Two-digit (four for the year) UTC fields of a Unix time, for backup
/// names and listings. nil outside years 0 to 9999: the times come from
/// Redis and from metadata in Consul, and `tm_year + 1900` of a far time
/// overflows.
struct UTCTime {
    let year, month, day, hour, minute, second: String

    init?(unixSeconds: Int64) {
        var time = time_t(unixSeconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return nil }
        let fullYear = Int(parts.tm_year) + 1900
        guard (0...9999).contains(fullYear) else { return nil }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        year = String(repeating: "0", count: 4 - String(fullYear).count) + String(fullYear)
        month = two(parts.tm_mon + 1)
        day = two(parts.tm_mday)
        hour = two(parts.tm_hour)
        minute = two(parts.tm_min)
        second = two(parts.tm_sec)
    }

    /// `YYYY-mm-dd HH:MM:SS`
    var text: String { "\(year)-\(month)-\(day) \(hour):\(minute):\(second)" }
}
