import Foundation

/// A downloaded backup that passed every check.
struct FetchedBackup: Sendable, Equatable {
    var name: String
    var rdbSize: Int
    var rdbSHA256: String
    var gzipSize: Int
    var gzipSHA256: String
    var rdbVersion: Int
    /// False for a backup without metadata (the original project's): only
    /// gzip's CRC-32 and the RDB header vouch for it.
    var checkedAgainstMetadata: Bool
}

/// Downloads a backup into a file, gunzipping on the way, and checks it
/// against its metadata before the file takes its final name.
struct BackupFetcher {
    let consul: ConsulClient
    let store: BackupStore
    let timeoutSeconds: Double
    let heartbeat: Heartbeat?
    let log: (String, LogLevel) -> Void

    /// Writes the RDB to `destination` through a temporary file beside it.
    /// With `keep` false (a dry run) the verified file is deleted instead of
    /// renamed. On any failure nothing is left behind.
    func fetch(name: String, to destination: String, keep: Bool) throws -> FetchedBackup {
        let metadataKey = BackupKeys.metadata(for: name)
        let metadata = try consul.getKV(metadataKey)?.value.map { try BackupMetadata.decode($0, key: metadataKey) }
        if metadata == nil {
            log("backup \(name) has no metadata at \(metadataKey): only gzip's CRC-32 and the RDB header can be checked", .warn)
        }
        let writer = try AtomicFileWriter(destination: destination)
        do {
            let rdb = RDBCheckingSink(writer)
            let gunzip = try GzipDecompressingSink(into: rdb)
            var gzipHasher = SHA256()
            let compressed = ObservedByteSink(gunzip) { gzipHasher.update($0) }
            let deadline = Deadline.after(seconds: timeoutSeconds)
            let guarded = GuardedSink(compressed, deadline: deadline, heartbeat: heartbeat) {
                BackupError.saveTimedOut(seconds: Int(timeoutSeconds), lastSeen: "download of \(name) still running")
            }
            store.retry(within: deadline) { [log] in log($0, .warn) }
            try store.get(name: name, into: guarded)
            try gunzip.finish()
            let fetched = FetchedBackup(
                name: name, rdbSize: rdb.byteCount, rdbSHA256: rdb.hasher.finalizeHex(), gzipSize: compressed.byteCount,
                gzipSHA256: gzipHasher.finalizeHex(), rdbVersion: try rdb.header.finish(), checkedAgainstMetadata: metadata != nil)
            if let metadata { try Self.verify(fetched, against: metadata) }
            if keep { try writer.commit() } else { writer.abort() }
            return fetched
        } catch {
            writer.abort()
            throw error
        }
    }

    static func verify(_ fetched: FetchedBackup, against metadata: BackupMetadata) throws {
        let name = fetched.name
        if fetched.gzipSize != metadata.gzipSize {
            throw BackupError.sizeMismatch(name: name, what: "gzip file", expected: metadata.gzipSize, actual: fetched.gzipSize)
        }
        if fetched.gzipSHA256 != metadata.gzipSHA256 {
            throw BackupError.checksumMismatch(name: name, what: "gzip file", expected: metadata.gzipSHA256, actual: fetched.gzipSHA256)
        }
        if fetched.rdbSize != metadata.rdbSize {
            throw BackupError.sizeMismatch(name: name, what: "RDB", expected: metadata.rdbSize, actual: fetched.rdbSize)
        }
        if fetched.rdbSHA256 != metadata.rdbSHA256 {
            throw BackupError.checksumMismatch(name: name, what: "RDB", expected: metadata.rdbSHA256, actual: fetched.rdbSHA256)
        }
    }
}
