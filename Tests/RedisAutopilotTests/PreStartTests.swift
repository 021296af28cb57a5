import Foundation
import XCTest
@testable import RedisAutopilot

/// preStart's clearing of the check statuses a restarted Consul agent would
/// restore: the decision branch by branch, the parsers on bad input, and the
/// hook on a data directory laid out as Consul 1.22 lays it out.
final class PreStartTests: XCTestCase {
    private let now: Int64 = 1_800_000_000

    private func check(_ id: String, service: String) -> PersistedCheck {
        PersistedCheck(checkID: id, serviceID: String(id.dropFirst("service:".count)), serviceName: service)
    }

    private func status(_ id: String, _ status: String = "passing", expires: Int64) -> PersistedCheckStatus {
        PersistedCheckStatus(path: "/d/checks/state/\(id)", checkID: id, status: status, expires: expires)
    }

    // MARK: decision

    func testNothingPersistedClearsNothing() {
        let plan = PreStartDecision.decide(PersistedAgentChecks(), directory: "/data/consul", now: now)
        XCTAssertEqual(plan.remove, [])
        XCTAssertEqual(plan.reason, "no persisted checks in the Consul agent's data dir /data/consul; nothing to clear")
    }

    func testStatusesOfTheRolesAndSentinelGoWhetherRestorableOrNot() {
        let found = PersistedAgentChecks(
            checks: [
                check("service:redis-10.0.0.5-6379", service: "redis"),
                check("service:redis-replica-10.0.0.5-6379", service: "redis-replica"),
                check("service:redis-sentinel-node1", service: "redis-sentinel"),
                check("service:web-1", service: "web"),
            ],
            statuses: [
                status("service:web-1", expires: now + 30),
                status("service:redis-sentinel-node1", expires: now - 1),
                status("service:redis-10.0.0.5-6379", expires: now + 12),
            ])
        let plan = PreStartDecision.decide(found, directory: "/data/consul", now: now)
        XCTAssertEqual(plan.remove.map(\.checkID), ["service:redis-10.0.0.5-6379", "service:redis-sentinel-node1"])
        XCTAssertTrue(plan.reason.contains("holds the last status of 2 check(s) of this node from before this start"), plan.reason)
        XCTAssertTrue(plan.reason.contains("service:redis-10.0.0.5-6379 passing (restorable for 12 s)"), plan.reason)
        XCTAssertTrue(plan.reason.contains("service:redis-sentinel-node1 passing (expired)"), plan.reason)
        XCTAssertTrue(plan.reason.contains("removing it so the agent restores these checks critical"), plan.reason)
        XCTAssertFalse(plan.reason.contains("web"), plan.reason)
    }

    /// Consul restores a status while `now < Expires`, in whole seconds.
    func testAStatusExpiringThisSecondIsExpired() {
        let found = PersistedAgentChecks(checks: [check("service:redis-a", service: "redis")],
                                         statuses: [status("service:redis-a", "warning", expires: now)])
        let plan = PreStartDecision.decide(found, directory: "/d", now: now)
        XCTAssertEqual(plan.remove.map(\.checkID), ["service:redis-a"])
        XCTAssertTrue(plan.reason.contains("service:redis-a warning (expired)"), plan.reason)
    }

    /// Only a check's definition tells which service it belongs to; a status
    /// without one is never restored by the agent and is left alone.
    func testStatusesOfOtherServicesOrWithoutADefinitionStay() {
        let found = PersistedAgentChecks(
            checks: [check("service:web-1", service: "web"), check("node-disk", service: "")],
            statuses: [status("service:web-1", expires: now + 5), status("node-disk", expires: now + 5),
                       status("service:redis-orphan", expires: now + 5)],
            unreadable: ["/d/checks/0a1b"])
        let plan = PreStartDecision.decide(found, directory: "/d", now: now)
        XCTAssertEqual(plan.remove, [])
        XCTAssertEqual(plan.reason, "no last status of a redis, redis-replica, redis-sentinel check in the Consul agent's data dir /d; "
            + "1 unreadable file(s) left to Consul; nothing to clear")
    }

    // MARK: parsers

    func testParsesTheFilesConsulWrites() throws {
        let checkFile = #"""
        {"Check":{"Node":"node1","CheckID":"service:redis-10.0.0.5-6379","Name":"Service 'redis' check","Status":"critical",
        "Notes":"","Output":"","ServiceID":"redis-10.0.0.5-6379","ServiceName":"redis","ServiceTags":[],"Type":"ttl",
        "Interval":"","Timeout":"","ExposedPort":0,"Definition":{},"CreateIndex":0,"ModifyIndex":0},
        "ChkType":{"CheckID":"","TTL":25000000000,"DeregisterCriticalServiceAfter":60000000000},
        "Token":"s3cr3t-token","Source":"remote"}
        """#
        XCTAssertEqual(try ConsulAgentDataDirectory.parseCheck(Data(checkFile.utf8), path: "p"),
                       PersistedCheck(checkID: "service:redis-10.0.0.5-6379", serviceID: "redis-10.0.0.5-6379", serviceName: "redis"))
        let nodeCheck = #"{"Check":{"CheckID":"mem","Name":"mem"},"ChkType":{"TTL":1}}"#
        XCTAssertEqual(try ConsulAgentDataDirectory.parseCheck(Data(nodeCheck.utf8), path: "p"),
                       PersistedCheck(checkID: "mem", serviceID: "", serviceName: ""))
        let state = #"{"CheckID":"service:redis-10.0.0.5-6379","Output":"master with 2 connected replica(s)","Status":"passing","Expires":1800000025}"#
        XCTAssertEqual(try ConsulAgentDataDirectory.parseCheckStatus(Data(state.utf8), path: "p"),
                       PersistedCheckStatus(path: "p", checkID: "service:redis-10.0.0.5-6379", status: "passing", expires: 1_800_000_025))
    }

    func testMalformedCheckFilesAreErrorsThatNeverEchoTheToken() {
        let bad = [
            "", "not json", "[]", "{}", #"{"Check":null}"#, #"{"Check":{"Name":"x"},"Token":"s3cr3t-token"}"#,
            #"{"Check":{"CheckID":7}}"#, #"{"Check":{"CheckID":"a","ServiceName":["redis"]}}"#, "{\"Check\":{\"CheckID\":\"a\"",
        ]
        for text in bad {
            XCTAssertThrowsError(try ConsulAgentDataDirectory.parseCheck(Data(text.utf8), path: "/d/checks/x"), text) { error in
                guard case ConsulAgentDataError.malformed(let path, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, "/d/checks/x")
                XCTAssertFalse("\(error)".contains("s3cr3t"), "\(error)")
            }
        }
    }

    func testMalformedStatusFilesAreErrors() {
        let bad = [
            "{}", #"{"CheckID":"a","Status":"passing"}"#, #"{"CheckID":"a","Status":"passing","Expires":"1800000000"}"#,
            #"{"CheckID":"a","Status":"passing","Expires":1.5}"#, #"{"CheckID":"a","Status":"passing","Expires":1e30}"#,
            #"{"CheckID":"a","Status":"passing","Expires":99999999999999999999}"#, #"{"CheckID":null,"Status":"passing","Expires":1}"#,
            #"{"CheckID":"a","Status":2,"Expires":1}"#, "\u{FF}\u{FE}",
        ]
        for text in bad {
            XCTAssertThrowsError(try ConsulAgentDataDirectory.parseCheckStatus(Data(text.utf8), path: "p"), text) { error in
                guard case ConsulAgentDataError.malformed = error else { return XCTFail("\(error)") }
            }
        }
    }

    // MARK: the hook on a real directory

    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "prestart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/checks/state", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Consul names each file by the SHA-256 of the ID inside it.
    @discardableResult
    private func persist(check id: String, service: String?, status: String?, expires: Int64) throws -> String {
        let name = Hex.encode(SHA256.digest(id))
        let serviceFields = service.map { #","ServiceID":"\#(id.dropFirst(8))","ServiceName":"\#($0)""# } ?? ""
        try Data(#"{"Check":{"CheckID":"\#(id)"\#(serviceFields)},"ChkType":{"TTL":25000000000},"Token":"","Source":"remote"}"#.utf8)
            .write(to: URL(fileURLWithPath: "\(directory)/checks/\(name)"))
        if let status {
            try Data(#"{"CheckID":"\#(id)","Output":"","Status":"\#(status)","Expires":\#(expires)}"#.utf8)
                .write(to: URL(fileURLWithPath: "\(directory)/checks/state/\(name)"))
        }
        return "\(directory)/checks/state/\(name)"
    }

    private func runHook(dataDir: String) throws -> [String] {
        let settings = try Settings.load(from: ["CONSUL_DATA_DIR": dataDir, "LOG_LEVEL": "debug"])
        let sink = InMemoryLogSink()
        let logger = Logger(settings: settings.log, secrets: settings.secrets, sink: sink, clock: Date.init)
        let now = now
        try PreStartHook(settings: settings, logger: logger, clock: { Date(timeIntervalSince1970: TimeInterval(now)) }).run()
        return sink.lines
    }

    func testHookRemovesTheStatusesOfThisNodesChecksAndNothingElse() throws {
        let master = try persist(check: "service:redis-10.0.0.5-6379", service: "redis", status: "passing", expires: now + 20)
        let sentinel = try persist(check: "service:redis-sentinel-node1", service: "redis-sentinel", status: "passing", expires: now + 20)
        let web = try persist(check: "service:web-1", service: "web", status: "passing", expires: now + 20)
        try Data("{".utf8).write(to: URL(fileURLWithPath: directory + "/checks/state/half.tmp"))

        let lines = try runHook(dataDir: directory)

        let manager = FileManager.default
        XCTAssertFalse(manager.fileExists(atPath: master))
        XCTAssertFalse(manager.fileExists(atPath: sentinel))
        XCTAssertTrue(manager.fileExists(atPath: web))
        XCTAssertTrue(manager.fileExists(atPath: directory + "/checks/state/half.tmp"), "Consul's own temporary file is left alone")
        XCTAssertEqual(try manager.contentsOfDirectory(atPath: directory + "/checks").count, 4, "check definitions stay")
        let cleared = lines.filter { $0.contains("holds the last status of 2 check(s)") }
        XCTAssertEqual(cleared.count, 1, "\(lines)")
        XCTAssertTrue(cleared[0].contains("service:redis-10.0.0.5-6379 passing (restorable for 20 s)"), cleared[0])
        XCTAssertTrue(cleared[0].contains("hook=preStart"), cleared[0])

        let again = try runHook(dataDir: directory)
        XCTAssertTrue(again.contains { $0.contains("no last status of a redis, redis-replica, redis-sentinel check") }, "\(again)")
    }

    func testHookOnAnAgentThatNeverRanChangesNothing() throws {
        let lines = try runHook(dataDir: directory + "/never-created")
        XCTAssertTrue(lines.contains { $0.contains("no persisted checks in the Consul agent's data dir \(directory)/never-created") }, "\(lines)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/never-created"))
    }

    func testRemovingWhatCannotBeRemovedIsAnErrorNamingThePath() throws {
        let path = directory + "/checks/state/a-directory"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let store = ConsulAgentDataDirectory(path: directory)
        XCTAssertThrowsError(try store.remove(status("x", expires: now).with(path: path))) { error in
            guard case ConsulAgentDataError.removeFailed(let failed, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(failed, path)
        }
        XCTAssertNoThrow(try store.remove(status("x", expires: now).with(path: directory + "/checks/state/gone")),
                         "a status already gone is not an error")
    }
}

private extension PersistedCheckStatus {
    func with(path: String) -> PersistedCheckStatus {
        PersistedCheckStatus(path: path, checkID: checkID, status: status, expires: expires)
    }
}
