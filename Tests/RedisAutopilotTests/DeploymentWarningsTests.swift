import Foundation
import XCTest
@testable import RedisAutopilot

/// The warnings preStart logs once per boot: a node open to the network
/// without a password, and backups that only this node can reach.
final class DeploymentWarningsTests: XCTestCase {
    private func warnings(_ environment: [String: String]) throws -> [String] {
        DeploymentWarnings.check(try Settings.load(from: environment))
    }

    private let password = ["REDIS_PASSWORD": "s3cret"]
    private let shared = ["BACKUP_STORE": "local"]

    // MARK: no password

    func testTheDefaultsWarnOfAnOpenNodeAndAnUnsharedStore() throws {
        let found = try warnings([:])
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertTrue(found[0].hasPrefix("REDIS_PASSWORD is not set and REDIS_BIND has 0.0.0.0, not only loopback"), found[0])
        XCTAssertTrue(found[0].contains("anyone who reaches port 6379 can read and change every key"), found[0])
        XCTAssertTrue(found[0].contains("keep ports 6379 and 26379 off networks"), found[0])
        XCTAssertTrue(found[1].hasPrefix("BACKUP_STORE is auto and neither S3_BUCKET nor MANTA_USER is set"), found[1])
        XCTAssertTrue(found[1].contains("BACKUP_DIR /var/backups/redis on this node only"), found[1])
    }

    func testAPasswordSilencesTheOpenNodeWarning() throws {
        XCTAssertEqual(try warnings(password.merging(shared) { $1 }), [])
    }

    func testLoopbackOnlyNeedsNoPassword() throws {
        for bind in ["127.0.0.1", "127.0.0.1 ::1", "127.10.0.1,::1", "0:0:0:0:0:0:0:1"] {
            XCTAssertEqual(try warnings(["REDIS_BIND": bind].merging(shared) { $1 }), [], bind)
        }
    }

    func testEveryNonLoopbackAddressIsNamedWithTheConfiguredPorts() throws {
        let found = try warnings(["REDIS_BIND": "127.0.0.1 10.0.0.5 ::", "REDIS_PORT": "7000", "SENTINEL_PORT": "27000"]
            .merging(shared) { $1 })
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertTrue(found[0].contains("REDIS_BIND has 10.0.0.5, ::, not only loopback"), found[0])
        XCTAssertTrue(found[0].contains("keep ports 7000 and 27000 off networks"), found[0])
    }

    func testLoopbackIsTheLoopbackRangeAndNothingElse() {
        for address in ["127.0.0.1", "127.255.255.254", "::1", "0::1"] {
            XCTAssertTrue(DeploymentWarnings.isLoopback(address), address)
        }
        for address in ["0.0.0.0", "128.0.0.1", "10.127.0.1", "::", "::2", "1::1", "fe80::1", "::ffff:10.0.0.1", "", "localhost"] {
            XCTAssertFalse(DeploymentWarnings.isLoopback(address), address)
        }
    }

    // MARK: local store

    func testOnlyTheAutomaticFallBackToLocalWarns() throws {
        XCTAssertEqual(try warnings(password.merging(["BACKUP_STORE": "local", "BACKUP_DIR": "/shared"]) { $1 }), [],
                       "asking for local says BACKUP_DIR is where it should be")
        let s3 = ["S3_BUCKET": "redis-backups", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"]
        XCTAssertEqual(try warnings(password.merging(s3) { $1 }), [])
        let manta = ["MANTA_USER": "acme", "MANTA_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----#MIIBOgIBAAJBAK#-----END RSA PRIVATE KEY-----"]
        XCTAssertEqual(try warnings(password.merging(manta) { $1 }), [])

        let fallback = try warnings(password.merging(["BACKUP_STORE": "auto", "BACKUP_DIR": "/srv/dumps"]) { $1 })
        XCTAssertEqual(fallback.count, 1, "\(fallback)")
        XCTAssertTrue(fallback[0].contains("BACKUP_DIR /srv/dumps on this node only"), fallback[0])
        XCTAssertTrue(fallback[0].contains("or BACKUP_STORE=local if BACKUP_DIR is a volume every node shares"), fallback[0])
    }

    // MARK: where it is logged

    func testPreStartLogsEachWarningOnceAtWarnWithoutTheSecrets() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warnings-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = InMemoryLogSink()
        func run(_ environment: [String: String]) throws -> [String] {
            let settings = try Settings.load(from: environment.merging(["CONSUL_DATA_DIR": directory, "LOG_LEVEL": "info"]) { $1 })
            let before = sink.lines.count
            let status = CommandRunner(settings: settings, logger: Logger(settings: settings.log, secrets: settings.secrets, sink: sink))
                .run(.preStart)
            XCTAssertEqual(status, .success)
            return Array(sink.lines.dropFirst(before)).filter { $0.contains(" WARN ") }
        }

        let open = try run([:])
        XCTAssertEqual(open.count, 2, "\(open)")
        XCTAssertTrue(open.allSatisfy { $0.contains("hook=preStart") }, "\(open)")

        let quiet = try run(["REDIS_PASSWORD": "s3cret", "BACKUP_STORE": "local"])
        XCTAssertEqual(quiet, [])
        XCTAssertFalse(sink.lines.joined().contains("s3cret"))
    }
}
