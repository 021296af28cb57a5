import Foundation

/// Renews a Consul session on a thread of its own every `period` seconds
/// until stopped, so the session outlives any single blocking call of the
/// thread that holds it: one S3 part (up to 5 GiB) is sent in one call, far
/// longer than a session's TTL.
final class ConsulSessionRenewer: @unchecked Sendable {
    private let consul: ConsulClient
    private let session: String
    private let period: Double
    private let condition = NSCondition()
    private var stopping = false
    private var running = false
    private var lost = false

    init(consul: ConsulClient, session: String, period: Double) {
        self.consul = consul
        self.session = session
        self.period = period
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

    /// True once Consul said the session no longer exists: its locks are gone.
    var isLost: Bool {
        condition.lock()
        defer { condition.unlock() }
        return lost
    }

    private func renewUntilStopped() {
        condition.lock()
        while !stopping {
            _ = condition.wait(until: Date(timeIntervalSinceNow: period))
            if stopping { break }
            condition.unlock()
            var gone = false
            do {
                _ = try consul.renewSession(id: session)
            } catch ConsulError.sessionNotFound {
                gone = true
            } catch {
                // Unreachable for now: the next period tries again, and the
                // holder checks the lock itself before it relies on it.
            }
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
