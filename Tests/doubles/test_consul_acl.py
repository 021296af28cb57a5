"""Consul's ACLs as the double applies them: lists are filtered (with
X-Consul-Results-Filtered-By-ACLs), single reads and writes refused with 403 naming the
permission, /v1/status answered without a token (agent/acl.go, agent/consul/acl.go's
filters, agent/structs/acl.go's PermissionDeniedError)."""

from __future__ import annotations

import json

import pytest

import consul_backend
from test_consul_contract import Client

pytestmark = pytest.mark.skipif(consul_backend.selected_backend() != "double",
                                reason="needs the double's ACL policies")

MANAGEMENT = "management-secret"
NARROW = "narrow-secret"       # service_prefix "redis-": does not cover `redis`
NO_NODES = "no-nodes-secret"   # services but no node:read
FILTERED = "X-Consul-Results-Filtered-By-ACLs"


@pytest.fixture(scope="module")
def acl_double(tmp_path_factory):
    path = tmp_path_factory.mktemp("acl") / "acl.json"
    path.write_text(json.dumps({
        "tokens": {
            NARROW: {"service_prefix": {"redis-": "write"}, "node_prefix": {"": "read"},
                     "key_prefix": {"service/redis-sentinel/": "read"},
                     "session_prefix": {"": "write"}, "agent_prefix": {"": "read"}},
            NO_NODES: {"service_prefix": {"": "read"}},
        },
        "anonymous": {"node_prefix": {"": "read"}},
    }))
    double = consul_backend.start_double(["node1"], token=MANAGEMENT, acl_file=str(path))
    admin = Client(double.url("node1"), MANAGEMENT)
    for name in ("redis", "redis-sentinel"):
        admin.register({"Name": name, "ID": name, "Check": {"TTL": "60s", "Status": "passing"}})
    assert admin.put("/v1/kv/service/redis/last-backup", "b").status == 200
    assert admin.put("/v1/kv/service/redis-sentinel/quorum", "2").status == 200
    yield double
    double.stop()


def client(double, token: str | None) -> Client:
    return Client(double.url("node1"), token)


def test_a_service_read_without_the_permission_is_filtered_not_refused(acl_double):
    narrow = client(acl_double, NARROW)
    denied = narrow.get("/v1/health/service/redis", passing=True)
    assert (denied.status, denied.json(), denied.headers.get(FILTERED)) == (200, [], "true")
    allowed = narrow.get("/v1/health/service/redis-sentinel")
    assert [e["Service"]["ID"] for e in allowed.json()] == ["redis-sentinel"]
    assert FILTERED not in allowed.headers
    assert narrow.get("/v1/catalog/service/redis").headers.get(FILTERED) == "true"


def test_entries_on_nodes_the_token_cannot_read_are_filtered(acl_double):
    answer = client(acl_double, NO_NODES).get("/v1/health/service/redis-sentinel")
    assert (answer.json(), answer.headers.get(FILTERED)) == ([], "true")


def test_the_agents_own_lists_are_filtered_too(acl_double):
    narrow = client(acl_double, NARROW)
    services = narrow.get("/v1/agent/services")
    assert (sorted(services.json()), services.headers.get(FILTERED)) == (["redis-sentinel"], "true")
    checks = narrow.get("/v1/agent/checks")
    assert (sorted(checks.json()), checks.headers.get(FILTERED)) == (["service:redis-sentinel"], "true")
    everything = client(acl_double, MANAGEMENT).get("/v1/agent/services")
    assert sorted(everything.json()) == ["redis", "redis-sentinel"] and FILTERED not in everything.headers


def test_writes_and_single_reads_are_refused_naming_the_permission(acl_double):
    narrow = client(acl_double, NARROW)
    write = narrow.put("/v1/agent/service/register", {"Name": "redis", "ID": "r2"})
    assert write.status == 403
    assert write.text.startswith("Permission denied: token with AccessorID '")
    assert write.text.endswith("lacks permission 'service:write' on \"redis\"")
    assert narrow.put("/v1/agent/check/pass/service:redis").status == 403
    assert narrow.put("/v1/agent/check/pass/service:redis-sentinel").status == 200
    read = narrow.get("/v1/kv/service/redis/last-backup")
    assert read.status == 403 and "'key:read' on \"service/redis/last-backup\"" in read.text
    assert narrow.get("/v1/kv/service/redis-sentinel/quorum").status == 200
    assert narrow.put("/v1/kv/service/redis-sentinel/quorum", "3").status == 403


def test_a_recursive_kv_read_is_filtered(acl_double):
    listing = client(acl_double, NARROW).get("/v1/kv/service/", recurse=True)
    assert [e["Key"] for e in listing.json()] == ["service/redis-sentinel/quorum"]
    assert listing.headers.get(FILTERED) == "true"


def test_the_anonymous_token_reads_filtered_and_writes_nothing(acl_double):
    anonymous = client(acl_double, None)
    health = anonymous.get("/v1/health/service/redis")
    assert (health.status, health.json(), health.headers.get(FILTERED)) == (200, [], "true")
    refused = anonymous.put("/v1/session/create", {})
    assert refused.status == 403
    assert "AccessorID '00000000-0000-0000-0000-000000000002'" in refused.text


def test_status_needs_no_token_and_an_unknown_token_is_not_found(acl_double):
    for token in (None, "who-is-this"):
        assert client(acl_double, token).get("/v1/status/leader").status == 200
    unknown = client(acl_double, "who-is-this").get("/v1/health/service/redis")
    assert (unknown.status, unknown.text) == (403, "ACL not found")
