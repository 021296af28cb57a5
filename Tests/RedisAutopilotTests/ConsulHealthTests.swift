import XCTest
@testable import RedisAutopilot

final class ConsulHealthTests: ConsulClientTestCase {
    /// Two instances in the shape of Consul's documented sample: the first
    /// passing with its own address, the second on a node whose serf check
    /// fails and with no service address.
    static let twoInstances = """
        [
          {
            "Node": {"ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "node-a", "Address": "10.0.0.5",
                     "Datacenter": "dc1", "TaggedAddresses": {"lan": "10.0.0.5", "wan": "10.0.0.5"},
                     "Meta": {"instance_type": "t2.medium"}, "CreateIndex": 5, "ModifyIndex": 9},
            "Service": {"ID": "redis-10.0.0.5", "Service": "redis", "Tags": ["master"], "Address": "10.0.0.50",
                        "TaggedAddresses": {"lan": {"address": "10.0.0.50", "port": 6379}},
                        "Meta": {"redis_version": "7.0"}, "Port": 6379,
                        "Weights": {"Passing": 10, "Warning": 1}, "Namespace": "default"},
            "Checks": [
              {"Node": "node-a", "CheckID": "service:redis-10.0.0.5", "Name": "Service 'redis' check",
               "Status": "passing", "Notes": "", "Output": "role master", "ServiceID": "redis-10.0.0.5",
               "ServiceName": "redis", "ServiceTags": ["master"], "Namespace": "default"},
              {"Node": "node-a", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing",
               "Notes": "", "Output": "", "ServiceID": "", "ServiceName": "", "ServiceTags": [], "Namespace": "default"}
            ]
          },
          {
            "Node": {"Node": "node-b", "Address": "10.0.0.6"},
            "Service": {"ID": "redis-10.0.0.6", "Service": "redis", "Tags": null, "Address": "", "Port": 6379},
            "Checks": [
              {"Node": "node-b", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "critical",
               "Output": "Agent not live or unreachable"}
            ]
          }
        ]
        """

    func testHealthServiceDecodesEntriesAndIndex() throws {
        transport.answer(ConsulAnswer.json(Self.twoInstances, index: 4217))
        let health = try client.healthService("redis")
        assertSent("GET", "/v1/health/service/redis")
        XCTAssertEqual(health.index, 4217)
        XCTAssertEqual(health.entries.count, 2)
        let first = health.entries[0]
        XCTAssertEqual(first.node, ConsulNode(
            id: "40e4a748-2192-161a-0510-9bf59fe950b5", node: "node-a", address: "10.0.0.5", datacenter: "dc1",
            meta: ["instance_type": "t2.medium"]))
        XCTAssertEqual(first.service, ConsulService(
            id: "redis-10.0.0.5", name: "redis", tags: ["master"], address: "10.0.0.50", port: 6379,
            meta: ["redis_version": "7.0"]))
        XCTAssertEqual(first.checks.map(\.checkID), ["service:redis-10.0.0.5", "serfHealth"])
        XCTAssertEqual(first.checks[0].output, "role master")
        XCTAssertEqual(first.instanceAddress, "10.0.0.50")
        let second = health.entries[1]
        XCTAssertEqual(second.instanceAddress, "10.0.0.6", "no service address: the node's")
        XCTAssertEqual(second.service.tags, [])
        XCTAssertEqual(second.checks.map(\.status), [.critical])
    }

    func testPassingIsSentAndTheNameEscaped() throws {
        transport.answer(ConsulAnswer.json("[]", index: 12))
        let health = try client.healthService("redis replica", passingOnly: true)
        assertSent("GET", "/v1/health/service/redis%20replica?passing")
        XCTAssertEqual(health, ConsulServiceHealth(entries: [], index: 12))
    }

    func testMissingIndexHeaderIsADecodeError() {
        transport.answer(ConsulAnswer.json("[]"))
        assertConsulError(try client.healthService("redis")) { error in
            guard case .decode("/v1/health/service/redis", let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("X-Consul-Index"), message)
        }
    }

    func testMalformedIndexHeaderIsADecodeError() {
        var answer = ConsulAnswer.json("[]")
        answer.headers.set("X-Consul-Index", "-3")
        transport.answer(answer)
        assertConsulError(try client.healthService("redis")) { error in
            guard case .decode(_, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("\"-3\""), message)
        }
    }

    func testEntryWithoutServiceIsADecodeError() {
        transport.answer(ConsulAnswer.json(#"[{"Node": {"Node": "a", "Address": "10.0.0.1"}, "Checks": []}]"#, index: 3))
        assertConsulError(try client.healthService("redis")) { error in
            guard case .decode(_, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("Service"), message)
        }
    }

    func testTruncatedHealthAnswerIsADecodeError() {
        transport.answer(ConsulAnswer.json(String(Self.twoInstances.prefix(300)), index: 3))
        assertConsulError(try client.healthService("redis")) { error in
            guard case .decode = error else { return XCTFail("\(error)") }
        }
    }

    func testCatalogService() throws {
        transport.answer(ConsulAnswer.json("""
            [
              {
                "ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "node-a", "Address": "192.168.10.10",
                "Datacenter": "dc1", "TaggedAddresses": {"lan": "192.168.10.10", "wan": "10.0.10.10"},
                "NodeMeta": {"somekey": "somevalue"}, "CreateIndex": 51, "ModifyIndex": 51,
                "ServiceAddress": "172.17.0.3", "ServiceEnableTagOverride": false,
                "ServiceID": "32a2a47f7992:nodea:5000", "ServiceName": "redis-sentinel", "ServicePort": 26379,
                "ServiceMeta": {"quorum": "2"}, "ServiceTags": ["sentinel"],
                "ServiceProxy": {"DestinationServiceName": "", "Upstreams": null}, "Namespace": "default"
              },
              {
                "Node": "node-b", "Address": "192.168.10.11", "ServiceID": "redis-sentinel",
                "ServiceName": "redis-sentinel", "ServiceAddress": "", "ServicePort": 26379, "ServiceTags": null
              }
            ]
            """, index: 77))
        let instances = try client.catalogService("redis-sentinel")
        assertSent("GET", "/v1/catalog/service/redis-sentinel")
        XCTAssertEqual(instances, [
            ConsulCatalogService(
                node: "node-a", address: "192.168.10.10", datacenter: "dc1", serviceID: "32a2a47f7992:nodea:5000",
                serviceName: "redis-sentinel", serviceTags: ["sentinel"], serviceAddress: "172.17.0.3",
                servicePort: 26379, serviceMeta: ["quorum": "2"]),
            ConsulCatalogService(
                node: "node-b", address: "192.168.10.11", serviceID: "redis-sentinel", serviceName: "redis-sentinel",
                servicePort: 26379),
        ])
        XCTAssertEqual(instances.map(\.instanceAddress), ["172.17.0.3", "192.168.10.11"])
    }

    func testCatalogServiceUnknownIsEmpty() throws {
        transport.answer(ConsulAnswer.json("[]", index: 77))
        XCTAssertEqual(try client.catalogService("nothing"), [])
        assertSent("GET", "/v1/catalog/service/nothing")
    }

    func testCatalogServiceErrorStatus() {
        transport.answer(ConsulAnswer.text("No cluster leader", status: 500))
        assertConsulError(try client.catalogService("redis")) { error in
            guard case .http("GET", "/v1/catalog/service/redis", 500, "No cluster leader") = error else {
                return XCTFail("\(error)")
            }
        }
    }
}
