import Foundation

/// Where the hooks' waits get their time: monotonic, so a wall-clock jump
/// neither ends a wait nor stretches it, and injected, so the in-process
/// tests run a timeout without waiting it out.
protocol HookClock: AnyObject {
    /// Time since the clock's own origin.
    var now: Duration { get }
    func sleep(for duration: Duration)
}

/// The clock of a real run: ContinuousClock.
final class MonotonicClock: HookClock {
    private let origin = ContinuousClock.now

    var now: Duration { ContinuousClock.now - origin }

    func sleep(for duration: Duration) {
        guard duration > .zero else { return }
        Thread.sleep(forTimeInterval: duration.inSeconds)
    }
}

/// A point on a HookClock after which a hook's loop stops observing.
struct HookDeadline {
    let clock: HookClock
    let end: Duration

    static func after(_ budget: Duration, on clock: HookClock) -> HookDeadline {
        HookDeadline(clock: clock, end: clock.now + budget)
    }

    var hasPassed: Bool { clock.now >= end }

    var remaining: Duration { max(.zero, end - clock.now) }
}

/// Pauses between observations of the polling loops outside the hooks'
/// driver (a BGSAVE, an AOF load, a server probe).
func pause(seconds: Double) {
    usleep(useconds_t(max(0, seconds) * 1_000_000))
}
