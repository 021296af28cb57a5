import Foundation
import XCTest
@testable import RedisAutopilot

/// Runs the built `redis-manage` as ContainerPilot would and checks what it
/// prints and exits with.
final class CommandLineBinaryTests: XCTestCase {
    private struct Outcome {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// Beside the test bundle (whatever the build folder), else the
    /// conventional `.build/debug`.
    private func executable() throws -> URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("redis-manage"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("redis-manage"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/redis-manage"),
        ]
        return try XCTUnwrap(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
            "redis-manage is not built (run `swift build`); looked in \(candidates.map(\.path))"
        )
    }

    private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + 20) == .timedOut {
            process.terminate()
            XCTFail("redis-manage \(arguments) did not exit within 20 s")
        }
        return Outcome(
            status: process.terminationStatus,
            standardOutput: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            standardError: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    func testHelpExitsZeroWithUsageOnStandardOutput() throws {
        let outcome = try run(["--help"])
        XCTAssertEqual(outcome.status, ExitCode.success.rawValue)
        XCTAssertTrue(outcome.standardOutput.contains("Usage: redis-manage <command>"), outcome.standardOutput)
        XCTAssertEqual(outcome.standardError, "")
    }

    func testHelpForACommandWorksWithBrokenSettings() throws {
        let outcome = try run(["help", "preStop"], environment: ["REDIS_PORT": "abc"])
        XCTAssertEqual(outcome.status, ExitCode.success.rawValue)
        XCTAssertTrue(outcome.standardOutput.contains("FAILOVER_WAIT_TIMEOUT"), outcome.standardOutput)
    }

    func testVersionExitsZero() throws {
        let outcome = try run(["--version"], environment: ["REDIS_PORT": "abc"])
        XCTAssertEqual(outcome.status, ExitCode.success.rawValue)
        XCTAssertEqual(outcome.standardOutput, "redis-manage \(RedisManage.version)\n")
    }

    func testUnknownCommandIsAUsageError() throws {
        let outcome = try run(["bogus"])
        XCTAssertEqual(outcome.status, ExitCode.usage.rawValue)
        XCTAssertTrue(outcome.standardError.hasPrefix("redis-manage: unknown command \"bogus\"\n"), outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("Usage: redis-manage <command>"))
        XCTAssertEqual(outcome.standardOutput, "")
    }

    func testUnknownFlagIsAUsageError() throws {
        let outcome = try run(["health", "--fast"])
        XCTAssertEqual(outcome.status, ExitCode.usage.rawValue)
        XCTAssertTrue(outcome.standardError.hasPrefix("redis-manage: unknown option \"--fast\"\n"), outcome.standardError)
    }

    func testBadSettingsStopTheCommandWithExitTwo() throws {
        let outcome = try run(["health"], environment: ["REDIS_PORT": "abc", "REDIS_PASSWORD": "s3cr3t\n", "LOG_LEVEL": "loud"])
        XCTAssertEqual(outcome.status, ExitCode.usage.rawValue)
        XCTAssertTrue(outcome.standardError.contains(#"REDIS_PORT="abc""#), outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("LOG_LEVEL"), outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("REDIS_PASSWORD"), outcome.standardError)
        XCTAssertFalse(outcome.standardError.contains("s3cr3t"), outcome.standardError)
        XCTAssertEqual(outcome.standardOutput, "", "nothing runs before the settings are valid")
    }

    func testCommandLogsAJSONLineToStandardOutput() throws {
        // Nothing listens on port 1, so neither the agent nor Sentinel answers and the hook fails.
        let outcome = try run(["healthSentinel"], environment: [
            "LOG_FORMAT": "json", "SENTINEL_PORT": "1", "CONSUL_HTTP_ADDR": "127.0.0.1:1", "REDIS_ANNOUNCE_IP": "127.0.0.1"])
        XCTAssertEqual(outcome.status, ExitCode.failure.rawValue)
        let lines = outcome.standardOutput.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, outcome.standardOutput)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        XCTAssertEqual(object["level"] as? String, "ERROR")
        XCTAssertEqual(object["hook"] as? String, "healthSentinel")
        XCTAssertTrue((object["msg"] as? String ?? "").contains("127.0.0.1:1"), outcome.standardOutput)
    }
}
