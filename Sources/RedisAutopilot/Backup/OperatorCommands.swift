import Foundation

/// `backup --now`, `backups list` and `restore`: what an operator runs in a
/// node's container. Results go to `output`; progress goes to the log.
struct OperatorCommands {
    let settings: Settings
    let consul: ConsulClient
    /// A backup task for a store, forced (`backup --now`).
    let backupTask: (BackupStore) -> BackupTask
    let restorer: (Heartbeat?) -> BackupRestore
    /// Where this node's redis-server would listen.
    let localRedis: SocketEndpoint
    let output: (String) -> Void

    func backupNow() throws {
        let store = try makeBackupStore(settings: settings.backup)
        switch try backupTask(store).run() {
        case let .took(metadata):
            output("backup \(metadata.name) stored in \(store): \(metadata.rdbSize) bytes RDB, \(metadata.gzipSize) bytes gzip, sha256 \(metadata.rdbSHA256)")
        case let .skipped(reason):
            throw BackupError.refused(reason: reason)
        }
    }

    func listBackups() throws {
        let store = try makeBackupStore(settings: settings.backup)
        let rows = BackupCatalog.merge(
            stored: try store.list(), metadataPairs: try consul.listKV(prefix: BackupKeys.metadataPrefix),
            lastBackup: try consul.getKV(BackupKeys.lastBackup)?.stringValue)
        output("backups in \(store) and Consul (* = \(BackupKeys.lastBackup)):")
        output(BackupCatalog.render(rows))
    }

    func restore(name: String, dryRun: Bool) throws {
        let store = try makeBackupStore(settings: settings.backup)
        try BackupName.validate(name, store: store.description)
        let restorer = restorer(nil)
        let dataDir = settings.paths.dataDir
        if dryRun {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            let fetched = try restorer.fetcher(store: store).fetch(name: name, to: dataDir + "/" + LocalData.rdbFile, keep: false)
            output(report(fetched, verb: "checked (dry run, nothing kept)"))
            return
        }
        // Any listener counts, even one that would refuse our AUTH.
        let endpoint = localRedis
        if let socket = try? SocketConnection.connect(to: endpoint, deadline: .after(seconds: 2)) {
            socket.close()
            throw BackupError.redisStillRunning(endpoint: "\(endpoint)")
        }
        let found = LocalData.evidence(in: LocalData.scan(dataDir))
        guard found.isEmpty else { throw BackupError.localDataPresent(directory: dataDir, found: found) }
        output(report(try restorer.restore(name: name, store: store), verb: "restored into \(dataDir)"))
    }

    private func report(_ fetched: FetchedBackup, verb: String) -> String {
        """
        backup \(fetched.name) \(verb)
          RDB: \(fetched.rdbSize) bytes, version \(fetched.rdbVersion), sha256 \(fetched.rdbSHA256)
          gzip: \(fetched.gzipSize) bytes, sha256 \(fetched.gzipSHA256)
          checked against metadata: \(fetched.checkedAgainstMetadata ? "yes" : "no (none recorded; gzip CRC-32 and RDB header only)")
        """
    }
}
