import Foundation

/// The `backup` hook and `backup --now`: observe, decide, act, so the cluster
/// keeps one backup per BACKUP_TTL, preferably taken on a replica.
struct BackupTask {
    enum Outcome: Sendable, Equatable {
        case skipped(reason: String)
        case took(BackupMetadata)
    }

    let settings: Settings
    /// Its own KV records: last-backup, its time, the metadata.
    let consul: ConsulClient
    let observer: ClusterObserver
    let redis: RedisNode
    let lock: ClusterLock
    let store: BackupStore
    let forced: Bool
    /// How often the session is renewed while the backup runs.
    var renewalPeriod = ClusterLock.sessionTTL / 3

    var identity: NodeIdentity { observer.identity }

    func run() throws -> Outcome {
        // ContainerPilot runs a periodic job once at its own startup, before
        // the agent and Redis exist: that run, and any while Redis is down,
        // has nothing to back up and nothing to report as an error.
        if !forced, case let .unreachable(reason) = observer.localRedis().observation {
            let note = "redis-server does not answer (\(reason)); nothing to back up on this node now"
            log(note)
            return .skipped(reason: note)
        }
        let interval = settings.backup.interval.inSeconds
        defer { release() }
        // Observing again after taking the lock sees a backup another node
        // finished meanwhile; the third round only follows a lost race.
        for _ in 0..<3 {
            let plan = BackupDecision.decide(try observe(session: lock.session), interval: interval)
            log(plan.reason)
            switch plan.step {
            case .skip:
                return .skipped(reason: plan.reason)
            case .refuse:
                throw BackupError.refused(reason: plan.reason)
            case .acquireLock:
                if try !lock.acquire() {
                    log("lock \(BackupKeys.lock) not taken (held by another node or in its lock-delay); observing again")
                }
            case .takeBackup:
                guard let session = lock.session else { throw BackupError.refused(reason: "decided to back up without a session") }
                return .took(try takeBackup(session: session))
            }
        }
        throw BackupError.refused(reason: "the lock \(BackupKeys.lock) changed hands three times; giving up for this run")
    }

    func observe(session: String?) throws -> BackupSnapshot {
        let lastTime: LastBackupTime
        if let text = try consul.getKV(BackupKeys.lastBackupTime)?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) {
            lastTime = Int64(text).map { .at(unixSeconds: $0) } ?? .unreadable(text)
        } else {
            lastTime = .none
        }
        let lockState: BackupLockState
        if let pair = try consul.getKV(BackupKeys.lock), let holder = pair.session {
            lockState = holder == session ? .heldByMe : .heldByOther(holder: pair.stringValue.map { "\($0) (session \(holder))" } ?? "session \(holder)")
        } else {
            lockState = .free
        }
        return BackupSnapshot(
            now: Int64(Date().timeIntervalSince1970), me: identity.announce, redis: observer.localRedis().observation,
            passingReplicas: try observer.cluster.passing(RoleService.replica.name), lastBackup: lastTime, lock: lockState, forced: forced)
    }

    private func takeBackup(session: String) throws -> BackupMetadata {
        let timeout = settings.backup.saveTimeout.inSeconds
        let deadline = Deadline.after(seconds: timeout)
        // Renewed on its own thread: the store may block far longer than the
        // TTL in one call. The copy stops at its next piece once the lock is gone.
        guard let renewer = lock.renewer(every: renewalPeriod) else { throw BackupError.lockLost(key: BackupKeys.lock) }
        renewer.start()
        defer { renewer.stop() }
        let heartbeat = Heartbeat(every: 0) {
            if renewer.isLost { throw BackupError.lockLost(key: BackupKeys.lock) }
        }
        let client = try redis.redis()
        defer { client.close() }
        let saved = try RDBSnapshot(client: client, deadline: deadline, timeoutSeconds: Int(timeout), heartbeat: heartbeat, log: log).take()
        let name = try BackupNaming.name(forSaveTime: saved.savedAt)
        log("BGSAVE done (saved at \(saved.savedAt)); streaming \(saved.path) through gzip "
            + "(level \(settings.backup.compressionLevel), \(settings.backup.compressionThreads) thread(s)) to \(store) as \(name)")

        // Opened once: a retried upload reads this very file again from its
        // start, even if a later BGSAVE has renamed a newer one to its path.
        let file = try FileByteSource(path: saved.path)
        defer { file.close() }
        var attempt: UploadAttempt?
        let upload = UploadSource(length: nil, maximumLength: GzipSizeBound.maximum(forInput: try file.size())) {
            try file.rewind()
            let fresh = try UploadAttempt(file: file, savedAt: saved.savedAt, settings: settings.backup, deadline: deadline,
                                          heartbeat: heartbeat) {
                BackupError.saveTimedOut(seconds: Int(timeout), lastSeen: "upload of \(name) still running")
            }
            attempt = fresh
            return fresh.source
        }
        store.retry(within: deadline) { [log = observer.log] in log($0, level: .warn) }
        let started = Deadline.now
        try store.put(name: name, from: upload)
        guard let attempt else { throw BackupError.refused(reason: "\(store) stored \(name) without reading it") }
        let rdb = attempt.rdb, gzip = attempt.gzip
        let metadata = BackupMetadata(
            name: name, rdbSize: rdb.byteCount, gzipSize: gzip.byteCount, rdbSHA256: rdb.hasher.finalizeHex(),
            gzipSHA256: attempt.gzipSHA256(), savedAt: saved.savedAt, node: identity.announce.description,
            redisVersion: saved.redisVersion.description, rdbVersion: try rdb.header.finish())
        log("stored \(name): \(metadata.rdbSize) bytes RDB (version \(metadata.rdbVersion)), \(metadata.gzipSize) bytes gzip "
            + "in \(String(format: "%.1f", started.elapsedSeconds))s; sha256 \(metadata.rdbSHA256)")

        let newest = try mayRecord(session: session, savedAt: saved.savedAt, name: name)
        // The metadata first, so that last-backup never names a backup a restore cannot check.
        try consul.putKV(BackupKeys.metadata(for: name), value: metadata.encoded())
        guard newest else { return metadata }
        try consul.putKV(BackupKeys.lastBackup, value: Array(name.utf8))
        try consul.putKV(BackupKeys.lastBackupTime, value: Array(String(saved.savedAt).utf8))
        log("recorded \(name) in \(BackupKeys.lastBackup), \(BackupKeys.lastBackupTime) and \(BackupKeys.metadata(for: name))")
        applyRetention(newest: name)
        return metadata
    }

    /// Only the lock's holder records a backup, and never over a newer one:
    /// the lock can lapse however it is renewed (a partition, an operator),
    /// and then another node may have backed up meanwhile. Throws
    /// `lockLost`; false when a newer backup is already recorded.
    private func mayRecord(session: String, savedAt: Int64, name: String) throws -> Bool {
        guard try lock.renew(), try lock.isHeld() else {
            throw BackupError.lockLost(key: BackupKeys.lock)
        }
        let recorded = try consul.getKV(BackupKeys.lastBackupTime)?.stringValue
            .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let recorded, recorded >= savedAt {
            log("\(BackupKeys.lastBackupTime) already records a save at \(recorded), not older than this one at \(savedAt); "
                + "\(name) is stored with its metadata but \(BackupKeys.lastBackup) keeps naming the newer backup")
            return false
        }
        return true
    }

    /// Failing to delete an old backup leaves one too many, which the next
    /// run deletes: it is logged, and the new backup stands.
    private func applyRetention(newest: String) {
        let keep = settings.backup.keep
        guard keep > 0 else { return }
        do {
            let doomed = RetentionPlan.namesToDelete(stored: try store.list().map(\.name), keep: keep, protected: newest)
            log(doomed.isEmpty ? "BACKUP_KEEP=\(keep): nothing to delete" : "BACKUP_KEEP=\(keep): deleting \(doomed.joined(separator: ", "))")
            for name in doomed {
                do {
                    try store.delete(name: name)
                } catch BackupStoreError.notFound {
                    log("\(name) was already gone from \(store)")
                }
                try consul.deleteKV(BackupKeys.metadata(for: name))
            }
        } catch {
            observer.log("retention failed, older backups stay until the next run: \(error)", level: .warn)
        }
    }

    private func release() {
        do {
            try lock.release()
        } catch {
            observer.log("could not release \(BackupKeys.lock); it frees when the session expires: \(error)", level: .warn)
        }
    }

    private func log(_ message: String) {
        observer.log(message)
    }
}

/// One pass over the RDB file on its way to the store, with the sizes and
/// digests of that pass: the metadata describes the attempt that was stored.
private final class UploadAttempt {
    private final class Digest {
        var hasher = SHA256()
    }

    let rdb: RDBCheckingSource
    let gzip: ObservedByteSource
    let source: ByteSource
    private let gzipDigest = Digest()

    init(file: ByteSource, savedAt: Int64, settings: BackupSettings, deadline: Deadline, heartbeat: Heartbeat,
         onTimeout: @escaping () -> Error) throws {
        rdb = RDBCheckingSource(file)
        let digest = gzipDigest
        let compressing = try GzipCompressingSource(
            rdb, level: settings.compressionLevel, threads: settings.compressionThreads, name: LocalData.rdbFile,
            modified: Date(timeIntervalSince1970: Double(savedAt)))
        gzip = ObservedByteSource(compressing) {
            digest.hasher.update($0)
        }
        source = GuardedSource(gzip, deadline: deadline, heartbeat: heartbeat, onTimeout: onTimeout)
    }

    func gzipSHA256() -> String {
        gzipDigest.hasher.finalizeHex()
    }
}
