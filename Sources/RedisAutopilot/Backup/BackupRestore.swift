import Foundation

/// Restores a backup into this node's empty data directory: download and
/// check, rename to dump.rdb, load it into an append-only dataset. Used by
/// onStart for the first master of an empty cluster and by `restore`.
struct BackupRestore {
    let settings: Settings
    let consul: ConsulClient
    /// Logs as `restore`.
    let log: HookLog
    /// Keeps a lock alive (onStart's bootstrap lock) through a long restore.
    let heartbeat: Heartbeat?

    func fetcher(store: BackupStore) -> BackupFetcher {
        BackupFetcher(consul: consul, store: store, timeoutSeconds: settings.backup.saveTimeout.inSeconds,
                      heartbeat: heartbeat) { [log] message, level in log(message, level: level) }
    }

    var dataDir: String { settings.paths.dataDir }

    /// Restores `name`; on failure removes whatever it wrote, so the
    /// directory is as empty as it was.
    func restore(name: String, store: BackupStore) throws -> FetchedBackup {
        for directory in [settings.paths.dataDir, settings.paths.runDir] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let server = try ServerBinaryCheck(settings: settings, log: log).supported(.server)
        do {
            let fetched = try fetcher(store: store).fetch(name: name, to: dataDir + "/" + LocalData.rdbFile, keep: true)
            log("downloaded and checked \(name): \(fetched.rdbSize) bytes RDB version \(fetched.rdbVersion), sha256 \(fetched.rdbSHA256)")
            try AppendOnlyLoader(serverPath: server, dataDir: dataDir, runDir: settings.paths.runDir, timeoutSeconds: settings.backup.saveTimeout.inSeconds,
                                 heartbeat: heartbeat) { log($0) }.load()
            return fetched
        } catch {
            removeRestoredFiles()
            throw BackupError.restoreFailed(name: name, cause: error)
        }
    }

    /// Only called when the directory held no data before the restore, so
    /// everything named here was written by it.
    private func removeRestoredFiles() {
        for name in [LocalData.rdbFile, LocalData.aofFile, LocalData.aofDirectory] {
            try? FileManager.default.removeItem(atPath: dataDir + "/" + name)
        }
    }

    /// onStart's step for a node that becomes master of a cluster without one.
    func runOnBootstrap() throws {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let lastBackup = try consul.getKV(BackupKeys.lastBackup)?.stringValue
        let plan = RestorePlan.decide(localData: LocalData.evidence(in: LocalData.scan(dataDir)), lastBackup: lastBackup)
        log(plan.reason)
        guard case let .restore(name) = plan.step else { return }
        do {
            let store = try makeBackupStore(settings: settings.backup)
            _ = try restore(name: name, store: store)
        } catch {
            switch settings.backup.restoreOnFailure {
            case .fail:
                throw error
            case .empty:
                log("RESTORE_ON_FAILURE=empty: STARTING WITH AN EMPTY DATASET although backup \(name) is recorded; "
                    + "it could not be restored: \(error)", level: .error)
            }
        }
    }
}
