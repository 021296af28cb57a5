import Foundation

/// A failure worth another attempt: the server said it was busy or broken
/// (503, 500), or the connection failed. `underlying` is what the caller sees
/// if no attempt is left.
struct TransientFailure: Error, CustomStringConvertible {
    let underlying: Error
    /// Seconds the server asked to wait (`Retry-After`), if it did.
    let retryAfter: Double?

    init(_ underlying: Error, retryAfter: Double? = nil) {
        self.underlying = underlying
        self.retryAfter = retryAfter
    }

    var description: String { "\(underlying)" }

    /// A transport failure that may go away: refused, reset or silent
    /// connections, a cut-off answer, a failed TLS handshake. Failures of the
    /// caller's own body source or sink (a deadline, a corrupt download) and
    /// refused requests are not.
    static func isTransient(_ error: HTTPError) -> Bool {
        switch error.failure {
        case .network, .malformedResponse, .tls:
            return true
        case .bodyTooLarge, .invalidRequest, .requestBodyLength, .requestBodyFailed, .responseSinkFailed:
            return false
        }
    }
}

/// How requests to a backup store are retried: capped exponential backoff
/// with full jitter, as the AWS SDKs' standard mode does ("Exponential
/// Backoff And Jitter", AWS Architecture Blog): before retry n it waits a
/// random time in [0, min(maxDelay, baseDelay x 2^(n-1))), or exactly what a
/// `Retry-After` asked. No wait ends past `deadline`: when the next attempt
/// could not start before it, the last failure is final.
///
/// Only the caller knows which requests may be sent twice: it marks a failure
/// as `TransientFailure` only for idempotent requests whose body it can send
/// again from its start.
struct RetryPolicy {
    var maxAttempts: Int
    var baseDelay: Double
    var maxDelay: Double
    /// Without a deadline, a longer `Retry-After` is not waited for.
    var maxRetryAfter: Double
    /// The hook's own deadline, when it has one.
    var deadline: Deadline?
    /// Told before each retry, so the hook's log says what is going on.
    var report: (String) -> Void
    var random: () -> Double
    var sleep: (Double) -> Void

    init(maxAttempts: Int, baseDelay: Double, maxDelay: Double, maxRetryAfter: Double, deadline: Deadline? = nil,
                report: @escaping (String) -> Void = { _ in },
                random: @escaping () -> Double = { Double.random(in: 0..<1) },
                sleep: @escaping (Double) -> Void = { usleep(useconds_t(max(0, $0) * 1_000_000)) }) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.deadline = deadline
        self.report = report
        self.random = random
        self.sleep = sleep
    }

    /// Four attempts, waits of up to 1, 2 and 4 s (20 s at most), a
    /// `Retry-After` of up to a minute honoured.
    static var standard: RetryPolicy {
        RetryPolicy(maxAttempts: 4, baseDelay: 1, maxDelay: 20, maxRetryAfter: 60)
    }

    /// Runs `attempt` until it succeeds, throws something other than a
    /// `TransientFailure`, or no retry is left; then the last failure's
    /// underlying error is thrown.
    func run<T>(_ operation: String, _ attempt: () throws -> T) throws -> T {
        var number = 1
        while true {
            do {
                return try attempt()
            } catch let failure as TransientFailure {
                guard number < maxAttempts, let wait = delay(beforeRetry: number, retryAfter: failure.retryAfter) else {
                    throw failure.underlying
                }
                let asked = failure.retryAfter.map { " (Retry-After \(Self.seconds($0)))" } ?? ""
                report("\(operation) failed: \(failure.underlying); retry \(number) of \(maxAttempts - 1) in \(Self.seconds(wait))\(asked)")
                sleep(wait)
                number += 1
            }
        }
    }

    /// The wait before retry `retry` (1-based), nil when there is no time for it.
    func delay(beforeRetry retry: Int, retryAfter: Double?) -> Double? {
        let wait: Double
        if let retryAfter {
            if deadline == nil && retryAfter > maxRetryAfter { return nil }
            wait = max(0, retryAfter)
        } else {
            let ceiling = min(maxDelay, baseDelay * pow(2, Double(retry - 1)))
            wait = random() * ceiling
        }
        if let deadline, wait >= deadline.remainingSeconds { return nil }
        return wait
    }

    static func seconds(_ value: Double) -> String {
        String(format: "%.1fs", value)
    }
}

/// The `Retry-After` header (RFC 9110 10.2.3): delay-seconds or an HTTP date.
enum RetryAfter {
    static func seconds(_ value: String?, now: Date = Date()) -> Double? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.allSatisfy(\.isASCIIDigit) { return Double(text) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
