import Foundation
import XCTest
@testable import RedisAutopilot

/// REDIS_SERVER_BIN / REDIS_SENTINEL_BIN and PATH lookup.
final class ServerBinaryLocatorTests: XCTestCase {
    private func settings(_ environment: [String: String]) -> ServerBinarySettings {
        var reader = EnvironmentReader(environment)
        return ServerBinarySettings.read(from: &reader)
    }

    func testSettingsTakeAnAbsolutePathOrANameAndRefuseTheRest() throws {
        XCTAssertEqual(settings([:]).server, .search(["redis-server", "valkey-server"]))
        XCTAssertEqual(settings([:]).sentinel, .search(["redis-sentinel", "valkey-sentinel"]))
        XCTAssertEqual(settings(["REDIS_SERVER_BIN": "/opt/v/valkey-server"]).server, .path("/opt/v/valkey-server"))
        XCTAssertEqual(settings(["REDIS_SENTINEL_BIN": "valkey-sentinel"]).sentinel, .search(["valkey-sentinel"]))
        XCTAssertEqual(settings(["PATH": "/usr/bin::relative:/bin/"]).searchPath, ["/usr/bin", "/bin/"])
        for bad in ["bin/redis-server", "./redis-server", "/usr/bin/redis server", "redis\u{1}server"] {
            XCTAssertThrowsError(try Settings.load(from: ["REDIS_SERVER_BIN": bad]), bad) { error in
                XCTAssertTrue("\(error)".contains("REDIS_SERVER_BIN"), "\(error)")
            }
        }
    }

    func testSearchFindsTheFirstNameInPathOrder() throws {
        let redis = try TemporaryDirectory()
        let valkey = try TemporaryDirectory()
        let present: Set<String> = [valkey.path + "/valkey-server", redis.path + "/redis-server", valkey.path + "/redis-server"]
        let binaries = ServerBinarySettings(server: .search(ServerBinarySettings.serverNames),
                                            sentinel: .search(ServerBinarySettings.sentinelNames),
                                            searchPath: [valkey.path, redis.path])
        let locator = ServerBinaryLocator(settings: binaries) { present.contains($0) }
        XCTAssertEqual(try locator.locate(.server), valkey.path + "/redis-server", "redis-server first, in PATH order")
        let valkeyServer = valkey.path + "/valkey-server"
        let onlyValkey = ServerBinaryLocator(settings: binaries) { $0 == valkeyServer }
        XCTAssertEqual(try onlyValkey.locate(.server), valkeyServer)
    }

    func testNeitherOnPathIsNamedWithThePathAndTheVariable() {
        let binaries = ServerBinarySettings(server: .search(ServerBinarySettings.serverNames),
                                            sentinel: .search(ServerBinarySettings.sentinelNames), searchPath: ["/nowhere", "/bin"])
        let locator = ServerBinaryLocator(settings: binaries) { _ in false }
        XCTAssertThrowsError(try locator.locate(.sentinel)) { error in
            XCTAssertEqual("\(error)", "neither redis-sentinel nor valkey-sentinel is on PATH (/nowhere:/bin): install one, "
                + "or set REDIS_SENTINEL_BIN to the program's absolute path")
        }
    }

    func testAGivenPathMustBeAnExecutableFile() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("redis-server", Array("#!/bin/sh\n".utf8))
        let binaries = ServerBinarySettings(server: .path(file), sentinel: .path(directory.path), searchPath: [])
        XCTAssertThrowsError(try ServerBinaryLocator(settings: binaries).locate(.server)) { error in
            XCTAssertEqual("\(error)", "REDIS_SERVER_BIN=\(file) is not an executable file")
        }
        XCTAssertThrowsError(try ServerBinaryLocator(settings: binaries).locate(.sentinel), "a directory is no program")
        chmod(file, 0o755)
        XCTAssertEqual(try ServerBinaryLocator(settings: binaries).locate(.server), file)
    }
}

/// Which servers are refused, from what they reported.
final class ServerSupportTests: XCTestCase {
    func testReportNamesValkeyByItsOwnVersion() throws {
        let valkey = try RedisInfo(parsing: "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.1.8\r\n")
        let report = ServerProbe.report(from: valkey, missing: [])
        XCTAssertEqual(report, ServerReport(product: "valkey", version: "8.1.8", redisVersion: "7.2.4", missing: []))
        XCTAssertEqual(report.name, "Valkey 8.1.8")
        let redis = try RedisInfo(parsing: "# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\n")
        XCTAssertEqual(ServerProbe.report(from: redis, missing: []).name, "Redis 6.2.14")
    }

    func testSupportedServersPass() {
        for (product, version, redisVersion) in [("redis", "6.2.14", "6.2.14"), ("redis", "7.0.15", "7.0.15"), ("valkey", "8.1.8", "7.2.4")] {
            XCTAssertNil(ServerSupport.refusal(of: ServerReport(product: product, version: version, redisVersion: redisVersion, missing: [])))
        }
    }

    func testAnOlderServerIsRefusedNamingItsVersion() {
        let refusal = ServerSupport.refusal(of: ServerReport(product: "redis", version: "6.0.16", redisVersion: "6.0.16",
                                                             missing: ["CLIENT PAUSE WRITE (ERR syntax error)"]))
        XCTAssertEqual(refusal, "Redis 6.0.16 is older than Redis 6.2, the oldest supported; "
            + "Redis 6.0.16 lacks CLIENT PAUSE WRITE (ERR syntax error)")
    }

    func testAMissingFeatureIsRefusedWhateverTheVersionSays() {
        let refusal = ServerSupport.refusal(of: ServerReport(product: "redis", version: "7.0.15", redisVersion: "7.0.15",
                                                             missing: ["ACL users (ERR unknown command 'ACL')"]))
        XCTAssertEqual(refusal, "Redis 7.0.15 lacks ACL users (ERR unknown command 'ACL')")
    }

    func testAMalformedVersionIsRefused() {
        for bad in ["", "7.x", "unstable", "7.0.15\r\n7"] {
            XCTAssertNotNil(ServerSupport.refusal(of: ServerReport(product: "redis", version: bad, redisVersion: bad, missing: [])), bad)
        }
    }
}

/// The probe against the real programs a node would run (REDIS_SERVER_BIN,
/// REDIS_SENTINEL_BIN, else PATH), and against a real server with a feature
/// taken away.
final class ServerProbeTests: XCTestCase {
    private func probe(_ program: ServerProgram, path: String) throws -> ServerReport {
        let runDir = try TemporaryDirectory()
        let report = try ServerProbe(program: program, path: path, runDir: runDir.path).run()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runDir.path), [], "the probe leaves nothing behind")
        return report
    }

    func testTheServerAndSentinelUnderTestHaveEveryFeature() throws {
        for (program, kind) in [(ServerProgram.server, RedisProcess.Kind.server), (.sentinel, .sentinel)] {
            let report = try probe(program, path: try RedisProcess.executable(kind))
            XCTAssertEqual(report.missing, [], "\(program)")
            XCTAssertNil(ServerSupport.refusal(of: report), "\(program): \(report)")
            XCTAssertNotNil(RedisVersion(report.version), "\(report)")
        }
    }

    /// A real server whose CLIENT command is renamed away: the probe finds
    /// what is missing by asking, whatever its version says.
    func testAServerWithoutAFeatureIsRefusedNamingItsVersion() throws {
        let directory = try TemporaryDirectory()
        let server = try RedisProcess.executable(.server)
        let wrapper = try directory.write("redis-server", Array("#!/bin/sh\nexec \"\(server)\" \"$@\" --rename-command CLIENT \"\"\n".utf8))
        chmod(wrapper, 0o755)
        let report = try probe(.server, path: wrapper)
        XCTAssertEqual(report.missing.count, 1, "\(report)")
        XCTAssertTrue(report.missing[0].hasPrefix("CLIENT PAUSE WRITE (ERR unknown command"), "\(report)")
        let refusal = try XCTUnwrap(ServerSupport.refusal(of: report))
        XCTAssertTrue(refusal.hasPrefix("\(report.name) lacks CLIENT PAUSE WRITE"), refusal)
    }

    /// A program that stops at startup (an old server refusing a directive
    /// of the config) is reported with its --version line and its output.
    func testAProgramThatStopsAtStartupIsReportedWithItsVersionAndOutput() throws {
        let directory = try TemporaryDirectory()
        let script = """
        #!/bin/sh
        if [ "$1" = --version ]; then echo 'Redis server v=5.0.14 sha=00000000:0 malloc=jemalloc-5.1.0 bits=64'; exit 0; fi
        echo '*** FATAL CONFIG FILE ERROR (Redis 5.0.14) ***'
        echo "Reading the configuration file, at line 14"
        echo ">>> 'masteruser \\"probe\\"'"
        echo 'Bad directive or wrong number of arguments'
        exit 1

        """
        let old = try directory.write("redis-server", Array(script.utf8))
        chmod(old, 0o755)
        XCTAssertThrowsError(try probe(.server, path: old)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("(Redis server v=5.0.14 "), text)
            XCTAssertTrue(text.contains("it exited with status 1 before answering"), text)
            XCTAssertTrue(text.contains("Bad directive or wrong number of arguments"), text)
            XCTAssertTrue(text.contains("supported: Redis 6.2 and 7.0, Valkey 8.1"), text)
        }
    }
}

final class ServerProbeCacheTests: XCTestCase {
    func testAnEntryHoldsOnlyForTheSameFile() throws {
        let runDir = try TemporaryDirectory()
        let binaries = try TemporaryDirectory()
        let binary = try binaries.write("redis-server", Array("one".utf8))
        let cache = ServerProbeCache(runDir: runDir.path, program: .server)
        let report = ServerReport(product: "redis", version: "7.0.15", redisVersion: "7.0.15", missing: [])
        XCTAssertNil(cache.lookup(path: binary))
        cache.store(report, path: binary)
        XCTAssertEqual(cache.lookup(path: binary), report)
        XCTAssertNil(ServerProbeCache(runDir: runDir.path, program: .sentinel).lookup(path: binary), "one file per program")
        XCTAssertNil(cache.lookup(path: binaries.path + "/other"))

        try binaries.write("redis-server", Array("changed".utf8))
        XCTAssertNil(cache.lookup(path: binary), "a replaced binary is asked again")
    }

    func testAnUnreadableEntryIsIgnored() throws {
        let runDir = try TemporaryDirectory()
        let binaries = try TemporaryDirectory()
        let binary = try binaries.write("redis-server", Array("one".utf8))
        let cache = ServerProbeCache(runDir: runDir.path, program: .server)
        for garbage in ["", "{", "[]", "{\"path\": 1}", "\u{0}\u{ff}"] {
            try runDir.write("server-probe.json", Array(garbage.utf8))
            XCTAssertNil(cache.lookup(path: binary), garbage)
        }
    }
}
