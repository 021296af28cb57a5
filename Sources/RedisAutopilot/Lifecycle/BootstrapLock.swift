import Foundation

/// The lock `service/redis/locks/master` that lets exactly one node of an
/// empty cluster become master. It is held through a Consul session whose id
/// is kept in the run directory: onStart takes it, health renews it and
/// releases it once this master is registered and passing.
struct BootstrapLock {
    /// Long enough to cover redis-server start plus a first health run;
    /// health renews it while it is held.
    static let sessionTTL: Double = 30
    /// Consul's guard against a lock changing hands at once after a session
    /// is lost; the original used the same value.
    static let lockDelay: Double = 5
    /// A (re)started agent's node is in the catalog with a passing serfHealth
    /// only once the leader has reconciled it, a second or so; until then
    /// Consul refuses sessions on it. Well within onStart's deadline.
    static let nodeHealthyWait: Double = 30

    let node: NodeContext

    var sessionFile: String { node.settings.paths.runDir + "/bootstrap-session" }

    var heldSession: String? {
        guard let text = ConfigFile.read(sessionFile) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    /// True when this node now holds the lock; false while another holds it
    /// or its lock-delay runs.
    func acquire() throws -> Bool {
        let session = try heldSession ?? createSession()
        do {
            return try node.consul.acquireLock(key: ClusterNames.bootstrapLockKey, session: session, value: Array(node.announce.description.utf8))
        } catch ConsulError.sessionNotFound {
            forget()
            return false
        }
    }

    private func createSession() throws -> String {
        let request = ConsulSessionRequest(
            name: "redis-bootstrap \(node.announce)", ttl: Self.sessionTTL, lockDelay: Self.lockDelay, behavior: .release)
        let id = try node.consul.createSession(request, waitingUpTo: Self.nodeHealthyWait) { [node] error in
            node.log("onStart", "Consul has not reconciled this node yet (\(error)); asking for the bootstrap session again in 1s",
                     level: .warn)
        }
        try FileManager.default.createDirectory(atPath: node.settings.paths.runDir, withIntermediateDirectories: true)
        try ConfigFile.write(id + "\n", to: sessionFile)
        return id
    }

    /// Keeps the session alive until health releases it. False when Consul no
    /// longer knows the session: the lock is gone (the file goes too), and
    /// whoever relied on holding it must stop.
    @discardableResult
    func renew() throws -> Bool {
        guard let session = heldSession else { return false }
        do {
            _ = try node.consul.renewSession(id: session)
            return true
        } catch ConsulError.sessionNotFound {
            forget()
            return false
        }
    }

    /// Whether Consul shows the lock held by this node's session now.
    func isHeldInConsul() -> Bool {
        guard let session = heldSession, let pair = try? node.consul.getKV(ClusterNames.bootstrapLockKey) else { return false }
        return pair.session == session
    }

    func release() throws {
        guard let session = heldSession else { return }
        do {
            _ = try node.consul.releaseLock(key: ClusterNames.bootstrapLockKey, session: session, value: Array(node.announce.description.utf8))
            try node.consul.destroySession(id: session)
        } catch ConsulError.sessionNotFound {
            // Already gone: nothing left to release.
        }
        forget()
    }

    private func forget() {
        try? FileManager.default.removeItem(atPath: sessionFile)
    }
}
