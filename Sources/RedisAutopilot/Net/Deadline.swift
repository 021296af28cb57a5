import Glibc

/// A point on the monotonic clock after which a network operation gives up.
/// Monotonic so that a wall-clock jump (NTP, a VM resumed) neither fires nor
/// postpones a timeout.
struct Deadline: Sendable, Comparable {
    let nanoseconds: UInt64

    init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    static var now: Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    /// Further than any wait here needs; keeps the arithmetic from trapping.
    static let longest: Double = 100 * 365 * 86400

    static func after(seconds: Double) -> Deadline {
        let bounded = seconds.isNaN ? 0 : min(max(seconds, 0), longest)
        let delta = UInt64(bounded * 1_000_000_000)
        return Deadline(nanoseconds: now.nanoseconds &+ delta)
    }

    /// Seconds since this point, for a deadline taken as a start time.
    var elapsedSeconds: Double {
        let current = Deadline.now.nanoseconds
        return current <= nanoseconds ? 0 : Double(current - nanoseconds) / 1_000_000_000
    }

    var hasPassed: Bool { Deadline.now >= self }

    var remainingSeconds: Double {
        let current = Deadline.now.nanoseconds
        return current >= nanoseconds ? 0 : Double(nanoseconds - current) / 1_000_000_000
    }

    /// Milliseconds left, rounded up and clamped for poll(2).
    var pollTimeout: Int32 {
        let current = Deadline.now.nanoseconds
        if current >= nanoseconds { return 0 }
        let millis = (nanoseconds - current + 999_999) / 1_000_000
        return Int32(min(millis, UInt64(Int32.max)))
    }

    static func < (lhs: Deadline, rhs: Deadline) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }
}
