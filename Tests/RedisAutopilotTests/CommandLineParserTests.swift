import XCTest
@testable import RedisAutopilot

final class CommandLineParserTests: XCTestCase {
    private func assertUsageError(_ arguments: [String], _ expected: UsageError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CommandLineParser.parse(arguments), "\(arguments)", file: file, line: line) { error in
            XCTAssertEqual(error as? UsageError, expected, file: file, line: line)
        }
    }

    func testEveryCommandRunsByItsName() throws {
        let names = ["preStart", "onStart", "health", "healthSentinel", "backup", "preStop", "awaitPreStop"]
        XCTAssertEqual(Command.allCases.map(\.rawValue), names)
        for command in Command.allCases {
            XCTAssertEqual(try CommandLineParser.parse([command.rawValue]), .run(command))
        }
    }

    func testSentinelsReconfigScriptArgumentsAreRecognised() throws {
        let arguments = ["mymaster", "leader", "failover", "10.0.0.1", "6379", "10.0.0.2", "6380"]
        guard case .failover(let change) = try CommandLineParser.parse(arguments) else {
            return XCTFail("not recognised as Sentinel's call")
        }
        XCTAssertEqual(change.masterName, "mymaster")
        XCTAssertEqual(change.role, "leader")
        XCTAssertEqual(change.from, NodeAddress(host: "10.0.0.1", port: 6379))
        XCTAssertEqual(change.to, NodeAddress(host: "10.0.0.2", port: 6380))
    }

    func testAlmostSentinelShapedArgumentsAreUsageErrors() {
        assertUsageError(["mymaster", "leader", "failover", "10.0.0.1", "6379", "10.0.0.2"], .unknownCommand("mymaster"))
        assertUsageError(["mymaster", "boss", "failover", "10.0.0.1", "6379", "10.0.0.2", "6380"], .unknownCommand("mymaster"))
        assertUsageError(["mymaster", "leader", "failover", "10.0.0.1", "0", "10.0.0.2", "6380"], .unknownCommand("mymaster"))
        assertUsageError(["mymaster", "observer", "start", "10.0.0.1", "6379", "10.0.0.2", "x"], .unknownCommand("mymaster"))
    }

    func testHelpForms() throws {
        for arguments in [["--help"], ["-h"], ["help"]] {
            XCTAssertEqual(try CommandLineParser.parse(arguments), .help(nil), "\(arguments)")
        }
        for command in Command.allCases {
            XCTAssertEqual(try CommandLineParser.parse(["help", command.rawValue]), .help(command))
            XCTAssertEqual(try CommandLineParser.parse([command.rawValue, "--help"]), .help(command))
            XCTAssertEqual(try CommandLineParser.parse(["-h", command.rawValue]), .help(command))
        }
    }

    func testVersionForms() throws {
        XCTAssertEqual(try CommandLineParser.parse(["--version"]), .version)
        XCTAssertEqual(try CommandLineParser.parse(["version"]), .version)
    }

    func testUsageErrors() {
        assertUsageError([], .missingCommand)
        assertUsageError(["bogus"], .unknownCommand("bogus"))
        assertUsageError(["prestart"], .unknownCommand("prestart"))
        assertUsageError([""], .unknownCommand(""))
        assertUsageError(["--bogus"], .unknownOption("--bogus"))
        assertUsageError(["health", "-v"], .unknownOption("-v"))
        assertUsageError(["health", "extra"], .unexpectedArgument("extra", after: "health"))
        assertUsageError(["help", "bogus"], .unknownCommand("bogus"))
        assertUsageError(["help", "health", "backup"], .unexpectedArgument("backup", after: "health"))
        assertUsageError(["version", "x"], .unexpectedArgument("x", after: "version"))
    }

    func testUsageErrorsReadWell() {
        XCTAssertEqual(UsageError.unknownCommand("bogus").description, #"unknown command "bogus""#)
        XCTAssertEqual(UsageError.unknownOption("--x").description, #"unknown option "--x""#)
    }

    func testHelpTextNamesEveryCommandAndExitCode() {
        let usage = HelpText.usage
        for command in Command.allCases {
            XCTAssertTrue(usage.contains("  \(command.rawValue) "), command.rawValue)
            let help = HelpText.text(for: command)
            XCTAssertTrue(help.hasPrefix("Usage: redis-manage \(command.rawValue)\n"), help)
            XCTAssertTrue(help.contains("ContainerPilot"), "help for \(command) says what calls it")
        }
        XCTAssertTrue(usage.contains(RedisManage.version))
        XCTAssertTrue(usage.contains("0 success, 1 the work failed, 2 wrong command line or settings"))
    }
}
