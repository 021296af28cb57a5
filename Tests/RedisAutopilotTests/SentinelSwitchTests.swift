import XCTest
@testable import RedisAutopilot

final class SentinelSwitchTests: XCTestCase {
    func testAcceptsTheArgumentsRedisSentinelReallyPasses() {
        // As redis-sentinel 7.0 calls the script at +failover-state-reconf-slaves.
        let change = SentinelSwitch(arguments: ["mymaster", "leader", "start", "10.0.0.1", "6379", "10.0.0.2", "6380"])
        XCTAssertEqual(change?.masterName, "mymaster")
        XCTAssertEqual(change?.role, "leader")
        XCTAssertEqual(change?.from, try! NodeAddress(host: "10.0.0.1", port: 6379))
        XCTAssertEqual(change?.to, try! NodeAddress(host: "10.0.0.2", port: 6380))
        XCTAssertNotNil(SentinelSwitch(arguments: ["mymaster", "observer", "start", "10.0.0.1", "6379", "10.0.0.2", "6379"]))
        XCTAssertNotNil(SentinelSwitch(arguments: ["mymaster", "observer", "failover", "10.0.0.1", "6379", "10.0.0.2", "6379"]),
                        "the documented state")
    }

    func testRejectsAnythingElse() {
        XCTAssertNil(SentinelSwitch(arguments: ["mymaster", "leader", "start", "10.0.0.1", "6379", "10.0.0.2"]))
        XCTAssertNil(SentinelSwitch(arguments: ["mymaster", "follower", "start", "10.0.0.1", "6379", "10.0.0.2", "6379"]))
        XCTAssertNil(SentinelSwitch(arguments: ["mymaster", "leader", "abort", "10.0.0.1", "6379", "10.0.0.2", "6379"]))
        XCTAssertNil(SentinelSwitch(arguments: ["mymaster", "leader", "start", "10.0.0.1", "0", "10.0.0.2", "6379"]))
        XCTAssertNil(SentinelSwitch(arguments: ["mymaster", "leader", "start", "10.0.0.1", "99999999999999999999", "10.0.0.2", "6379"]))
        XCTAssertNil(SentinelSwitch(arguments: ["health"]))
    }

    func testOnlyTheNodeLosingTheRoleStepsDown() throws {
        let change = try XCTUnwrap(SentinelSwitch(arguments: ["mymaster", "observer", "start", "10.0.0.1", "6379", "10.0.0.2", "6379"]))
        XCTAssertTrue(change.stepsDown(try! NodeAddress(host: "10.0.0.1", port: 6379)))
        XCTAssertFalse(change.stepsDown(try! NodeAddress(host: "10.0.0.2", port: 6379)), "the new master")
        XCTAssertFalse(change.stepsDown(try! NodeAddress(host: "10.0.0.3", port: 6379)), "a replica")
        XCTAssertFalse(change.stepsDown(try! NodeAddress(host: "10.0.0.1", port: 6380)), "same host, another node")
    }
}
