import XCTest
@testable import RedisAutopilot

final class CommandLineParserTests: XCTestCase {
    private func assertUsageError(_ arguments: [String], _ expected: UsageError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try CommandLineParser.parse(arguments), "\(arguments)", file: file, line: line) { error in
            XCTAssertEqual(error as? UsageError, expected, file: file, line: line)
        }
    }

    func testEveryHookRunsByItsName() throws {
        let names = ["preStart", "onStart", "startRedis", "startSentinel", "health", "healthSentinel", "backup", "preStop", "awaitPreStop", "backups", "restore", "status", "switchover"]
        XCTAssertEqual(Command.allCases.map(\.rawValue), names)
        for command in Command.allCases where command.options.isEmpty && command.usageArguments.isEmpty {
            XCTAssertEqual(try CommandLineParser.parse([command.rawValue]), .run(command))
        }
        XCTAssertEqual(try CommandLineParser.parse(["backup"]), .run(.backup))
    }

    func testOperatorCommands() throws {
        XCTAssertEqual(try CommandLineParser.parse(["backup", "--now"]), .operate(.backupNow))
        XCTAssertEqual(try CommandLineParser.parse(["--now", "backup"]), .operate(.backupNow))
        XCTAssertEqual(try CommandLineParser.parse(["backups", "list"]), .operate(.listBackups))
        XCTAssertEqual(try CommandLineParser.parse(["restore", "--name", "dump-20250101000000.rdb.gz"]),
                       .operate(.restore(name: "dump-20250101000000.rdb.gz", dryRun: false)))
        XCTAssertEqual(try CommandLineParser.parse(["restore", "--dry-run", "--name=dump-1.rdb.gz"]),
                       .operate(.restore(name: "dump-1.rdb.gz", dryRun: true)))
        XCTAssertEqual(try CommandLineParser.parse(["restore", "--name", "a", "--dry-run", "--help"]), .help(.restore))
        XCTAssertEqual(try CommandLineParser.parse(["backup", "--now", "--help"]), .help(.backup))
    }

    func testOperatorUsageErrors() {
        assertUsageError(["health", "--now"], .optionNotAccepted("--now", command: "health"))
        assertUsageError(["backups", "list", "--now"], .optionNotAccepted("--now", command: "backups"))
        assertUsageError(["backup", "--dry-run"], .optionNotAccepted("--dry-run", command: "backup"))
        assertUsageError(["backup", "--name", "x"], .optionNotAccepted("--name", command: "backup"))
        assertUsageError(["backup", "--now", "extra"], .unexpectedArgument("extra", after: "backup"))
        assertUsageError(["backups"], .missingArgument("a subcommand: list", command: "backups"))
        assertUsageError(["backups", "delete"], .unexpectedArgument("delete", after: "backups"))
        assertUsageError(["backups", "list", "all"], .unexpectedArgument("all", after: "backups list"))
        assertUsageError(["restore"], .missingArgument("--name NAME", command: "restore"))
        assertUsageError(["restore", "--dry-run"], .missingArgument("--name NAME", command: "restore"))
        assertUsageError(["restore", "--name"], .missingValue(option: "--name"))
        assertUsageError(["restore", "--name", "--dry-run"], .missingValue(option: "--name"))
        assertUsageError(["restore", "--name="], .missingArgument("--name NAME", command: "restore"))
        assertUsageError(["restore", "--name", "a", "b"], .unexpectedArgument("b", after: "restore"))
        assertUsageError(["restore", "--force", "--name", "a"], .unknownOption("--force"))
        XCTAssertEqual(UsageError.optionNotAccepted("--now", command: "health").description, "health does not take the option --now")
        XCTAssertEqual(UsageError.missingValue(option: "--name").description, "--name needs a value")
    }

    func testSentinelsReconfigScriptArgumentsAreRecognised() throws {
        let arguments = ["mymaster", "leader", "failover", "10.0.0.1", "6379", "10.0.0.2", "6380"]
        guard case .failover(let change) = try CommandLineParser.parse(arguments) else {
            return XCTFail("not recognised as Sentinel's call")
        }
        XCTAssertEqual(change.masterName, "mymaster")
        XCTAssertEqual(change.role, "leader")
        XCTAssertEqual(change.from, try! NodeAddress(host: "10.0.0.1", port: 6379))
        XCTAssertEqual(change.to, try! NodeAddress(host: "10.0.0.2", port: 6380))
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
            let arguments = command.usageArguments.isEmpty ? "" : " " + command.usageArguments
            XCTAssertTrue(help.hasPrefix("Usage: redis-manage \(command.rawValue)\(arguments)\n"), help)
            XCTAssertTrue(help.contains("ContainerPilot"), "help for \(command) says what calls it")
        }
        XCTAssertTrue(usage.contains("redis-manage restore --name NAME [--dry-run]"))
        XCTAssertTrue(usage.contains("redis-manage backup --now"))
        XCTAssertTrue(usage.contains(RedisManage.version))
        XCTAssertTrue(usage.contains("0 success, 1 the work failed, 2 wrong command line or settings"))
    }
}
