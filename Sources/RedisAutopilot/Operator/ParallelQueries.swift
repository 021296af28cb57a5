import Dispatch
import Foundation

/// Runs independent queries at once and collects what has answered by a
/// deadline. A query still running then is left to finish on its own (its
/// own timeouts end it); its slot reads nil, so one frozen node cannot hold
/// an operator's command past its bound.
enum ParallelQueries {
    static func run<T: Sendable>(_ queries: [@Sendable () -> T], until deadline: Deadline) -> [T?] {
        let results = ResultSlots<T>(count: queries.count)
        let group = DispatchGroup()
        for (index, query) in queries.enumerated() {
            DispatchQueue.global().async(group: group) {
                results.set(index, query())
            }
        }
        _ = group.wait(timeout: .now() + .nanoseconds(Int(max(0, deadline.remainingSeconds) * 1_000_000_000)))
        return results.snapshot()
    }
}

/// Results written from several threads, read once by the waiting one.
private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }

    func snapshot() -> [T?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
