import Foundation
import XCTest
@testable import RedisAutopilot

final class RetryPolicyTests: XCTestCase {
    private struct Busy: Error {}
    private struct Broken: Error {}

    func testFullJitterUnderACappedExponentialCeiling() {
        var draws = [0.99, 0.0, 0.5, 0.25, 0.999, 0.999]
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 1, maxDelay: 20, maxRetryAfter: 60, random: { draws.removeFirst() })
        let waits = (1...6).compactMap { policy.delay(beforeRetry: $0, retryAfter: nil) }
        XCTAssertEqual(waits, [0.99, 0, 2, 2, 0.999 * 16, 0.999 * 20])
    }

    func testRetryAfterIsWaitedAsAskedWithinLimits() {
        var policy = RetryPolicy(maxAttempts: 4, baseDelay: 1, maxDelay: 20, maxRetryAfter: 60, random: { 0.5 })
        XCTAssertEqual(policy.delay(beforeRetry: 1, retryAfter: 30), 30)
        XCTAssertNil(policy.delay(beforeRetry: 1, retryAfter: 61), "a long Retry-After without a deadline")
        policy.deadline = .after(seconds: 120)
        XCTAssertEqual(policy.delay(beforeRetry: 1, retryAfter: 90), 90, "within the deadline, however long")
        policy.deadline = .after(seconds: 10)
        XCTAssertNil(policy.delay(beforeRetry: 1, retryAfter: 30))
        XCTAssertEqual(policy.delay(beforeRetry: 1, retryAfter: nil), 0.5)
        policy.deadline = .after(seconds: 0)
        XCTAssertNil(policy.delay(beforeRetry: 1, retryAfter: nil), "no attempt starts past the deadline")
    }

    func testOnlyTransientFailuresAreRetriedAndTheLastOneIsThrown() {
        let recorder = RetryRecorder()
        var attempts = 0
        XCTAssertThrowsError(try recorder.policy().run("op") { () throws -> Int in
            attempts += 1
            throw TransientFailure(Busy())
        }) { XCTAssertTrue($0 is Busy, "\($0)") }
        XCTAssertEqual(attempts, 4)
        XCTAssertEqual(recorder.waits, [0.5, 1, 2])
        XCTAssertEqual(recorder.reports.last, "op failed: Busy(); retry 3 of 3 in 2.0s")

        attempts = 0
        XCTAssertThrowsError(try recorder.policy().run("op") { () throws -> Int in
            attempts += 1
            if attempts == 1 { throw TransientFailure(Busy()) }
            throw Broken()
        }) { XCTAssertTrue($0 is Broken, "\($0)") }
        XCTAssertEqual(attempts, 2)

        attempts = 0
        XCTAssertEqual(try recorder.policy().run("op") { () throws -> Int in
            attempts += 1
            if attempts < 3 { throw TransientFailure(Busy(), retryAfter: 7) }
            return 42
        }, 42)
        XCTAssertEqual(recorder.waits.suffix(2), [7, 7])
    }

    func testRetryAfterHeaderParsing() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertEqual(RetryAfter.seconds("30", now: now), 30)
        XCTAssertEqual(RetryAfter.seconds(" 0 ", now: now), 0)
        XCTAssertEqual(RetryAfter.seconds("Mon, 12 Jan 1970 13:47:10 GMT", now: now), 30)
        XCTAssertEqual(RetryAfter.seconds("Mon, 12 Jan 1970 13:00:00 GMT", now: now), 0, "a date past is no wait")
        for garbage in [nil, "", "-5", "1.5", "soon", "Mon, 99 Foo 1970"] {
            XCTAssertNil(RetryAfter.seconds(garbage, now: now), garbage ?? "nil")
        }
    }

    func testTransportFailuresOfTheConnectionAreTransientButNotOfTheCallersStreams() {
        let endpoint = SocketEndpoint.tcp(host: "127.0.0.1", port: 1)
        func error(_ failure: HTTPError.Failure) -> HTTPError { HTTPError(method: "PUT", target: "/x", host: "h", failure: failure) }
        XCTAssertTrue(TransientFailure.isTransient(error(.network(.closedByPeer(endpoint: endpoint)))))
        XCTAssertTrue(TransientFailure.isTransient(error(.network(.timeout(endpoint: endpoint, operation: "read")))))
        XCTAssertFalse(TransientFailure.isTransient(error(.requestBodyFailed(Broken()))))
        XCTAssertFalse(TransientFailure.isTransient(error(.responseSinkFailed(Broken()))))
        XCTAssertFalse(TransientFailure.isTransient(error(.requestBodyLength(declared: 1, actual: 2))))
    }
}
