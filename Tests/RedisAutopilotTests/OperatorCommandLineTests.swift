import XCTest
@testable import RedisAutopilot

final class OperatorCommandLineTests: XCTestCase {
    private func assertUsageError(_ arguments: [String], _ expected: UsageError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CommandLineParser.parse(arguments), "\(arguments)", file: file, line: line) { error in
            XCTAssertEqual(error as? UsageError, expected, file: file, line: line)
        }
    }

    func testStatusAndSwitchoverForms() throws {
        let target = try NodeAddress(host: "10.0.0.2", port: 6379)
        XCTAssertEqual(try CommandLineParser.parse(["status"]), .operate(.status(json: false)))
        XCTAssertEqual(try CommandLineParser.parse(["status", "--json"]), .operate(.status(json: true)))
        XCTAssertEqual(try CommandLineParser.parse(["switchover"]), .operate(.switchover(target: nil, confirmed: false)))
        XCTAssertEqual(try CommandLineParser.parse(["switchover", "--yes", "--to", "10.0.0.2:6379"]),
                       .operate(.switchover(target: target, confirmed: true)))
        XCTAssertEqual(try CommandLineParser.parse(["switchover", "--to=[::1]:6380"]),
                       .operate(.switchover(target: try NodeAddress(host: "::1", port: 6380), confirmed: false)))
        XCTAssertEqual(try CommandLineParser.parse(["help", "switchover"]), .help(.switchover))
        XCTAssertEqual(try CommandLineParser.parse(["status", "--help"]), .help(.status))
    }

    func testStatusAndSwitchoverUsageErrors() {
        assertUsageError(["status", "--yes"], .optionNotAccepted("--yes", command: "status"))
        assertUsageError(["switchover", "--json"], .optionNotAccepted("--json", command: "switchover"))
        assertUsageError(["health", "--to", "10.0.0.2:6379"], .optionNotAccepted("--to", command: "health"))
        assertUsageError(["status", "all"], .unexpectedArgument("all", after: "status"))
        assertUsageError(["switchover", "--to"], .missingValue(option: "--to"))
        assertUsageError(["switchover", "--to", "--yes"], .missingValue(option: "--to"))
        XCTAssertThrowsError(try CommandLineParser.parse(["switchover", "--to", "10.0.0.2"])) { error in
            guard case .invalidValue(option: "--to", let reason)? = error as? UsageError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("HOST:PORT"), reason)
        }
        XCTAssertThrowsError(try CommandLineParser.parse(["switchover", "--to", "a b:1"]))
    }

    func testHelpNamesTheRefusedExitCode() {
        XCTAssertTrue(HelpText.usage.contains("3 refused or not confirmed"))
        XCTAssertTrue(HelpText.usage.contains("redis-manage switchover [--to HOST:PORT] [--yes]"))
        XCTAssertTrue(HelpText.text(for: .status).contains("1 degraded"))
        XCTAssertEqual(ExitCode.refused.rawValue, 3)
    }
}
