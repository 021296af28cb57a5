@testable import RedisAutopilot

/// A retry policy whose waits are recorded instead of slept, with a fixed
/// jitter draw of one half, so tests see exactly what would have been waited.
final class RetryRecorder {
    private(set) var waits: [Double] = []
    private(set) var reports: [String] = []

    func policy(maxAttempts: Int = 4, deadline: Deadline? = nil) -> RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, baseDelay: 1, maxDelay: 20, maxRetryAfter: 60, deadline: deadline,
                    report: { [unowned self] in reports.append($0) }, random: { 0.5 },
                    sleep: { [unowned self] in waits.append($0) })
    }
}
