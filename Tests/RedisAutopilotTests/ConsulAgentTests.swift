import XCTest
@testable import RedisAutopilot

final class ConsulAgentTests: ConsulClientTestCase {
    func testAgentServicesByID() throws {
        transport.answer(ConsulAnswer.json("""
            {
              "redis-10.0.0.5": {
                "ID": "redis-10.0.0.5", "Service": "redis", "Tags": ["master"],
                "Meta": {"role": "master"}, "Port": 6379, "Address": "10.0.0.5",
                "TaggedAddresses": {"lan_ipv4": {"Address": "10.0.0.5", "Port": 6379}},
                "Weights": {"Passing": 10, "Warning": 1}, "EnableTagOverride": false, "Datacenter": "dc1"
              },
              "redis-sentinel": {
                "ID": "redis-sentinel", "Service": "redis-sentinel", "Tags": null, "Meta": null,
                "Port": 26379, "Weights": {"Passing": 10, "Warning": 1}, "EnableTagOverride": false
              }
            }
            """))
        let services = try client.agentServices()
        assertSent("GET", "/v1/agent/services")
        XCTAssertEqual(services, [
            "redis-10.0.0.5": ConsulService(
                id: "redis-10.0.0.5", name: "redis", tags: ["master"], address: "10.0.0.5", port: 6379,
                meta: ["role": "master"]),
            "redis-sentinel": ConsulService(id: "redis-sentinel", name: "redis-sentinel", port: 26379),
        ])
    }

    func testNoAgentServicesIsEmpty() throws {
        transport.answer(ConsulAnswer.json("{}"))
        XCTAssertEqual(try client.agentServices(), [:])
    }

    func testAgentServiceWithoutIDIsADecodeError() {
        transport.answer(ConsulAnswer.json(#"{"x": {"Service": "redis", "Port": 6379}}"#))
        assertConsulError(try client.agentServices()) { error in
            guard case .decode("/v1/agent/services", let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("\"ID\""), message)
            XCTAssertTrue(message.contains("x"), message)
        }
    }

    func testRegisterServiceWithEmbeddedTTLCheck() throws {
        transport.answer(ConsulAnswer.empty)
        try client.registerService(ConsulServiceRegistration(
            id: "redis-10.0.0.5", name: "redis", tags: ["master"], address: "10.0.0.5", port: 6379,
            meta: ["role": "master"],
            check: ConsulServiceTTLCheck(
                ttl: 15, deregisterCriticalServiceAfter: 600, notes: "set by redis-manage health", status: .passing)))
        assertSent("PUT", "/v1/agent/service/register", json: """
            {
              "ID": "redis-10.0.0.5", "Name": "redis", "Tags": ["master"], "Address": "10.0.0.5", "Port": 6379,
              "Meta": {"role": "master"},
              "Check": {"TTL": "15s", "DeregisterCriticalServiceAfter": "600s",
                        "Notes": "set by redis-manage health", "Status": "passing"}
            }
            """)
    }

    func testRegisterMinimalServiceLeavesOptionalFieldsOut() throws {
        transport.answer(ConsulAnswer.empty)
        try client.registerService(ConsulServiceRegistration(
            id: "redis-replica-1", name: "redis-replica",
            check: ConsulServiceTTLCheck(ttl: 7.5, deregisterCriticalServiceAfter: 90, checkID: "redis-replica-1:ttl", name: "role")))
        assertSent("PUT", "/v1/agent/service/register", json: """
            {
              "ID": "redis-replica-1", "Name": "redis-replica", "Tags": [], "Meta": {},
              "Check": {"CheckID": "redis-replica-1:ttl", "Name": "role", "TTL": "7500ms",
                        "DeregisterCriticalServiceAfter": "90s"}
            }
            """)
    }

    func testRegisterServiceRejectedByAgent() {
        transport.answer(ConsulAnswer.text("Invalid Service Meta: Couldn't load metadata pair", status: 400))
        assertConsulError(try client.registerService(ConsulServiceRegistration(id: "r", name: "redis"))) { error in
            guard case .http("PUT", "/v1/agent/service/register", 400, let body) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(body, "Invalid Service Meta: Couldn't load metadata pair")
        }
    }

    func testDeregisterServiceEscapesTheID() throws {
        transport.answer(ConsulAnswer.empty)
        try client.deregisterService(id: "redis:10.0.0.5:6379")
        assertSent("PUT", "/v1/agent/service/deregister/redis%3A10.0.0.5%3A6379")
    }

    func testDeregisterUnknownServiceIs404() {
        transport.answer(ConsulAnswer.text(
            "Unknown service ID \"nope\". Ensure that the service ID is passed, not the service name.", status: 404))
        assertConsulError(try client.deregisterService(id: "nope")) { error in
            guard case .http("PUT", "/v1/agent/service/deregister/nope", 404, let body) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(body.hasPrefix("Unknown service ID"), body)
        }
    }

    func testPassCheckWithNote() throws {
        transport.answer(ConsulAnswer.empty)
        try client.passCheck(id: "service:redis-10.0.0.5", note: "role master, 2 replicas")
        assertSent("PUT", "/v1/agent/check/pass/service%3Aredis-10.0.0.5?note=role%20master%2C%202%20replicas")
    }

    func testWarnAndFailCheck() throws {
        transport.answer(ConsulAnswer.empty)
        try client.warnCheck(id: "service:redis-replica-1", note: "lagging 30s")
        assertSent("PUT", "/v1/agent/check/warn/service%3Aredis-replica-1?note=lagging%2030s")
        transport.answer(ConsulAnswer.empty)
        try client.failCheck(id: "service:redis-replica-1")
        assertSent("PUT", "/v1/agent/check/fail/service%3Aredis-replica-1")
    }

    func testPassUnknownCheck() {
        transport.answer(ConsulAnswer.text("Unknown check ID \"service:gone\". Ensure that the check ID is passed, not the check name.", status: 404))
        assertConsulError(try client.passCheck(id: "service:gone")) { error in
            guard case .http("PUT", "/v1/agent/check/pass/service%3Agone", 404, _) = error else { return XCTFail("\(error)") }
        }
    }
}
