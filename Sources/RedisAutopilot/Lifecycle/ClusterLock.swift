import Foundation

/// A Consul session lock: the bootstrap lock `service/redis/locks/master`
/// (one node of an empty cluster becomes master) and the backup lock
/// `service/redis/backups/lock` (one node backs up per BACKUP_TTL).
///
/// On a lost session (TTL expired, destroyed, its node's check failed) the
/// lock is gone: every call that finds the session unknown forgets it, an
/// acquire answers `busy`-like false so the next one starts a new session,
/// and `renew` answers false, which the holder must treat as the end of its
/// right to act (the bootstrap fails onStart, the backup records nothing).
enum ClusterLockState: Sendable, Equatable {
    case free
    case mine
    /// Held by another node's session; `value` is what its holder wrote.
    case other(value: String?)
}

final class ClusterLock {
    /// Long enough to cover redis-server start plus a first health run, and
    /// Consul's 10 s minimum; renewed every third of it while held.
    static let sessionTTL: Duration = .seconds(30)
    /// Consul's guard against a lock changing hands at once after a session
    /// is lost; the original used the same value.
    static let lockDelay: Duration = .seconds(5)

    static func bootstrap(cluster: ClusterPort, identity: NodeIdentity, runDir: String) -> ClusterLock {
        ClusterLock(cluster: cluster, key: ClusterNames.bootstrapLockKey, sessionName: "redis-bootstrap \(identity.announce)",
                    holder: identity.announce.description, sessionFile: runDir + "/bootstrap-session")
    }

    static func backup(cluster: ClusterPort, identity: NodeIdentity) -> ClusterLock {
        ClusterLock(cluster: cluster, key: BackupKeys.lock, sessionName: "redis-backup \(identity.announce)",
                    holder: identity.announce.description, sessionFile: nil)
    }

    let cluster: ClusterPort
    let key: String
    let sessionName: String
    /// The value written to the key: who holds it.
    let holder: String
    /// Where the session id outlives this process (the bootstrap lock is
    /// taken by onStart and released by a later health run); nil keeps it in
    /// memory only.
    let sessionFile: String?
    private var memorySession: String?

    init(cluster: ClusterPort, key: String, sessionName: String, holder: String, sessionFile: String?) {
        self.cluster = cluster
        self.key = key
        self.sessionName = sessionName
        self.holder = holder
        self.sessionFile = sessionFile
    }

    /// The session this node holds (or tries) the lock with, if any.
    var session: String? {
        guard let sessionFile else { return memorySession }
        guard let text = ConfigFile.read(sessionFile) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// True when this node now holds the lock; false while another holds it,
    /// its lock-delay runs, or the session was lost (forgotten here).
    func acquire() throws -> Bool {
        let id = try session ?? createSession()
        switch try cluster.acquire(key, session: id, value: holder) {
        case .acquired: return true
        case .busy: return false
        case .sessionGone:
            forget()
            return false
        }
    }

    /// False when the session is lost: the lock is gone.
    @discardableResult
    func renew() throws -> Bool {
        guard let id = session else { return false }
        if try cluster.renew(session: id) { return true }
        forget()
        return false
    }

    /// Whether Consul shows the key held by this node's session now.
    func isHeld() throws -> Bool {
        guard let id = session else { return false }
        return try cluster.holder(of: key)?.session == id
    }

    /// Who holds the key now, as Consul shows it.
    func state() throws -> ClusterLockState {
        guard let holding = try cluster.holder(of: key) else { return .free }
        return holding.session == session ? .mine : .other(value: holding.value)
    }

    func release() throws {
        guard let id = session else { return }
        try cluster.release(key, session: id, value: holder)
        forget()
    }

    /// Renews the session on a thread of its own every `period`, so the lock
    /// outlives one blocking call of the thread that holds it (one S3 part
    /// can take far longer than the TTL).
    func renewer(every period: Duration) -> ClusterLockRenewer? {
        session.map { id in ClusterLockRenewer(period: period) { [cluster] in try cluster.renew(session: id) } }
    }

    private func createSession() throws -> String {
        let id = try cluster.createSession(name: sessionName, ttl: Self.sessionTTL, lockDelay: Self.lockDelay)
        if let sessionFile {
            try FileManager.default.createDirectory(
                atPath: (sessionFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try ConfigFile.write(id + "\n", to: sessionFile)
        } else {
            memorySession = id
        }
        return id
    }

    private func forget() {
        if let sessionFile {
            try? FileManager.default.removeItem(atPath: sessionFile)
        } else {
            memorySession = nil
        }
    }
}
