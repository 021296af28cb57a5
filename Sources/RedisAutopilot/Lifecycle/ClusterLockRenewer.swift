import Foundation

/// Renews a ClusterLock's session every `period` on a thread of its own
/// until stopped.
final class ClusterLockRenewer: @unchecked Sendable {
    /// False when the session is gone; throws when Consul did not answer.
    private let renew: () throws -> Bool
    private let period: Duration
    private let condition = NSCondition()
    private var stopping = false
    private var running = false
    private var lost = false

    init(period: Duration, renew: @escaping () throws -> Bool) {
        self.period = period
        self.renew = renew
    }

    func start() {
        condition.lock()
        running = true
        condition.unlock()
        Thread.detachNewThread { [self] in renewUntilStopped() }
    }

    /// Waits for a renewal in flight (bounded by the Consul timeout) to end.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    /// True once Consul said the session no longer exists: the lock is gone.
    var isLost: Bool {
        condition.lock()
        defer { condition.unlock() }
        return lost
    }

    private func renewUntilStopped() {
        condition.lock()
        while !stopping {
            _ = condition.wait(until: Date(timeIntervalSinceNow: period.inSeconds))
            if stopping { break }
            condition.unlock()
            // Unreachable counts as nothing yet: the next period tries again,
            // and the holder checks the lock itself before it relies on it.
            var gone = false
            if let renewed = try? renew() { gone = !renewed }
            condition.lock()
            if gone {
                lost = true
                break
            }
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
