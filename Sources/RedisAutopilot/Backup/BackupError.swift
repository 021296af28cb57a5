/// Failures of the backup task, restores and the operator commands, each
/// with what was being done and what came back.
enum BackupError: Error, CustomStringConvertible {
    case refused(reason: String)
    case saveFailed(reason: String)
    case saveTimedOut(seconds: Int, lastSeen: String)
    case notRDB(reason: String)
    case badMetadata(key: String, reason: String)
    case checksumMismatch(name: String, what: String, expected: String, actual: String)
    case sizeMismatch(name: String, what: String, expected: Int, actual: Int)
    case lockLost(key: String)
    case localDataPresent(directory: String, found: [String])
    case redisStillRunning(endpoint: String)
    case loadFailed(reason: String, logTail: String)
    case restoreFailed(name: String, cause: Error)

    var description: String {
        switch self {
        case let .refused(reason):
            return "backup refused: \(reason)"
        case let .saveFailed(reason):
            return "BGSAVE failed: \(reason)"
        case let .saveTimedOut(seconds, lastSeen):
            return "backup not finished within BACKUP_SAVE_TIMEOUT (\(seconds)s); last seen: \(lastSeen)"
        case let .notRDB(reason):
            return "not an RDB file: \(reason)"
        case let .badMetadata(key, reason):
            return "backup metadata at \(key) is unreadable: \(reason)"
        case let .checksumMismatch(name, what, expected, actual):
            return "backup \(name) is corrupt: SHA-256 of the \(what) is \(actual), metadata says \(expected)"
        case let .sizeMismatch(name, what, expected, actual):
            return "backup \(name) is corrupt: the \(what) has \(actual) bytes, metadata says \(expected)"
        case let .lockLost(key):
            return "the Consul session holding \(key) was lost during the backup; another node may take it over"
        case let .localDataPresent(directory, found):
            return "\(directory) already holds data (\(found.joined(separator: ", "))); a restore never writes over it"
        case let .redisStillRunning(endpoint):
            return "Redis answers at \(endpoint); stop it before restoring"
        case let .loadFailed(reason, logTail):
            return "loading the restored RDB into an append-only dataset failed: \(reason)"
                + (logTail.isEmpty ? "" : "; redis-server log ends with: \(logTail)")
        case let .restoreFailed(name, cause):
            return "restore of backup \(name) failed: \(cause)"
        }
    }
}
