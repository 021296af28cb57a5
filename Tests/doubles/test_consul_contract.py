"""Consul HTTP API contract, written from Consul's documentation.

The same tests run against the double (default) or real Consul agents
(CONSUL_BACKEND=real, or automatically when `consul` is on PATH). Tests that need
the double's control API or options are skipped on the real backend.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from typing import Any, Callable

import pytest

import agent_data_dir
import consul_backend
from consul_backend import HTTPResult, http_call

NODES = ["node1", "node2", "node3"]
BACKEND = consul_backend.selected_backend()
double_only = pytest.mark.skipif(BACKEND != "double",
                                 reason="needs the double's control API or options")


class Client:
    """Calls one agent's HTTP API."""

    def __init__(self, url: str, token: str | None = None):
        self.url = url
        self.token = token

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None,
             timeout: float = 10.0, **params: Any) -> HTTPResult:
        query = urllib.parse.urlencode({k: "" if v is True else v for k, v in params.items()})
        all_headers = {"X-Consul-Token": self.token} if self.token else {}
        all_headers.update(headers or {})
        return http_call(f"{self.url}{path}{'?' + query if query else ''}", method, body,
                         all_headers, timeout)

    def get(self, path: str, **params: Any) -> HTTPResult:
        return self.call("GET", path, **params)

    def put(self, path: str, body: Any = None, **params: Any) -> HTTPResult:
        return self.call("PUT", path, body, **params)

    def delete(self, path: str, **params: Any) -> HTTPResult:
        return self.call("DELETE", path, **params)

    # Shortcuts for the calls most tests make.

    def register(self, definition: dict) -> None:
        result = self.put("/v1/agent/service/register", definition)
        assert result.status == 200, result.text

    def session(self, **body: Any) -> str:
        result = self.put("/v1/session/create", body)
        assert result.status == 200, result.text
        return result.json()["ID"]

    def kv(self, key: str) -> dict | None:
        result = self.get(f"/v1/kv/{key}")
        if result.status == 404:
            return None
        assert result.status == 200, result.text
        return result.json()[0]

    def health(self, service: str, **params: Any) -> list:
        result = self.get(f"/v1/health/service/{service}", **params)
        assert result.status == 200, result.text
        return result.json()

    def check_status(self, check_id: str) -> str:
        return self.get("/v1/agent/checks").json()[check_id]["Status"]


def uid() -> str:
    return uuid.uuid4().hex[:10]


def eventually(predicate: Callable[[], Any], timeout: float = 6.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def decoded(entry: dict) -> bytes:
    return base64.b64decode(entry["Value"]) if entry["Value"] else b""


@pytest.fixture(scope="module")
def cluster():
    started = consul_backend.start_cluster(NODES, session_ttl_min=1.0)
    yield started
    started.stop()


@pytest.fixture
def a1(cluster) -> Client:
    return Client(cluster.url("node1"))


@pytest.fixture
def a2(cluster) -> Client:
    return Client(cluster.url("node2"))


@pytest.fixture
def start_double():
    """Start a private double with options; stopped at teardown even on failure."""
    started: list[consul_backend.DoubleCluster] = []

    def start(nodes: list[str] | None = None, **options: Any) -> consul_backend.DoubleCluster:
        double = consul_backend.start_double(nodes or ["node1", "node2"], **options)
        started.append(double)
        return double

    yield start
    for double in started:
        double.stop()


# -- status and agent ------------------------------------------------------------

def test_status_leader_names_the_leader(a1):
    result = a1.get("/v1/status/leader")
    assert result.status == 200
    host, _, port = result.json().rpartition(":")
    assert host and port.isdigit()


@double_only
def test_no_leader_until_delay_and_server_endpoints_fail(start_double):
    double = start_double(leader_delay=1.0)
    client = Client(double.url("node1"))
    assert client.get("/v1/status/leader").json() == ""
    no_leader = client.get("/v1/kv/anything")
    assert (no_leader.status, no_leader.text) == (500, "No cluster leader")
    assert client.get("/v1/agent/self").status == 200
    assert eventually(lambda: client.get("/v1/status/leader").json()) == "127.0.0.1:8300"
    assert client.get("/v1/kv/anything").status == 404


@double_only
def test_control_switches_leader_off_and_on(start_double):
    double = start_double()
    client = Client(double.url("node1"))
    double.set_leader(False)
    assert client.get("/v1/status/leader").json() == ""
    assert client.get("/v1/health/service/x").status == 500
    double.set_leader(True)
    assert client.get("/v1/status/leader").json() == "127.0.0.1:8300"


def test_agent_self_describes_its_own_node(cluster):
    for node in NODES:
        me = Client(cluster.url(node)).get("/v1/agent/self").json()
        assert me["Config"]["NodeName"] == node
        assert me["Config"]["Datacenter"] == "dc1"
        assert me["Member"]["Addr"] == "127.0.0.1"


# -- services and checks -------------------------------------------------------------

def test_embedded_check_is_named_after_service_and_starts_critical(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Port": 80, "Check": {"TTL": "10s"}})
    check = a1.get("/v1/agent/checks").json()[f"service:{sid}"]
    assert (check["Status"], check["ServiceID"], check["ServiceName"]) == ("critical", sid, "web")
    service = a1.get("/v1/agent/services").json()[sid]
    assert (service["Service"], service["Port"], service["Address"]) == ("web", 80, "")


def test_several_embedded_checks_are_numbered(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Checks": [{"TTL": "10s"}, {"TTL": "10s"}]})
    checks = a1.get("/v1/agent/checks").json()
    assert f"service:{sid}:1" in checks and f"service:{sid}:2" in checks


def test_ttl_check_goes_critical_when_not_passed_in_time(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Check": {"TTL": "1s", "Status": "passing"}})
    assert a1.check_status(f"service:{sid}") == "passing"
    eventually(lambda: a1.check_status(f"service:{sid}") == "critical", timeout=4)
    assert a1.get("/v1/agent/checks").json()[f"service:{sid}"]["Output"] == "TTL expired"


def test_pass_resets_the_ttl_clock(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Check": {"TTL": "1500ms"}})
    for _ in range(4):
        assert a1.put(f"/v1/agent/check/pass/service:{sid}").status == 200
        time.sleep(0.4)
    assert a1.check_status(f"service:{sid}") == "passing"
    eventually(lambda: a1.check_status(f"service:{sid}") == "critical", timeout=4)


def test_warn_and_fail_set_status_and_note_becomes_output(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Check": {"TTL": "10s"}})
    a1.put(f"/v1/agent/check/warn/service:{sid}", note="slow")
    check = a1.get("/v1/agent/checks").json()[f"service:{sid}"]
    assert (check["Status"], check["Output"]) == ("warning", "slow")
    a1.put(f"/v1/agent/check/fail/service:{sid}", note="down")
    check = a1.get("/v1/agent/checks").json()[f"service:{sid}"]
    assert (check["Status"], check["Output"]) == ("critical", "down")


def test_check_update_takes_status_and_output_and_rejects_bad_status(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Check": {"TTL": "10s"}})
    ok = a1.put(f"/v1/agent/check/update/service:{sid}", {"Status": "passing", "Output": "fine"})
    assert ok.status == 200
    check = a1.get("/v1/agent/checks").json()[f"service:{sid}"]
    assert (check["Status"], check["Output"]) == ("passing", "fine")
    bad = a1.put(f"/v1/agent/check/update/service:{sid}", {"Status": "great"})
    assert bad.status == 400


def test_unknown_check_and_service_answer_404(a1):
    assert a1.put(f"/v1/agent/check/pass/nope-{uid()}").status == 404
    assert a1.put(f"/v1/agent/service/deregister/nope-{uid()}").status == 404


def test_reregistering_keeps_check_status(a1):
    sid = f"svc-{uid()}"
    definition = {"Name": "web", "ID": sid, "Check": {"TTL": "10s"}}
    a1.register(definition)
    a1.put(f"/v1/agent/check/pass/service:{sid}")
    a1.register(definition)
    assert a1.check_status(f"service:{sid}") == "passing"


def test_deregister_removes_service_and_its_checks(a1, a2):
    sid, name = f"svc-{uid()}", f"web-{uid()}"
    a1.register({"Name": name, "ID": sid, "Check": {"TTL": "10s"}})
    assert a1.put(f"/v1/agent/service/deregister/{sid}").status == 200
    assert sid not in a1.get("/v1/agent/services").json()
    assert f"service:{sid}" not in a1.get("/v1/agent/checks").json()
    assert a2.health(name) == []


@double_only
def test_deregister_critical_service_after_reaps_the_service(start_double):
    client = Client(start_double().url("node1"))
    client.register({"Name": "web", "ID": "w1",
                     "Check": {"TTL": "10s", "DeregisterCriticalServiceAfter": "2s"}})
    time.sleep(0.5)
    assert "w1" in client.get("/v1/agent/services").json()
    eventually(lambda: "w1" not in client.get("/v1/agent/services").json(), timeout=4)


def test_service_is_seen_cluster_wide_but_agent_endpoints_are_local(a1, a2):
    sid, name = f"svc-{uid()}", f"web-{uid()}"
    a1.register({"Name": name, "ID": sid, "Port": 8080, "Check": {"TTL": "10s"}})
    seen = eventually(lambda: a2.health(name))
    assert (seen[0]["Node"]["Node"], seen[0]["Node"]["Address"]) == ("node1", "127.0.0.1")
    assert (seen[0]["Service"]["ID"], seen[0]["Service"]["Port"]) == (sid, 8080)
    assert sid not in a2.get("/v1/agent/services").json()
    assert f"service:{sid}" not in a2.get("/v1/agent/checks").json()


def test_catalog_service_lists_instances(a1, a2):
    sid, name = f"svc-{uid()}", f"web-{uid()}"
    a1.register({"Name": name, "ID": sid, "Port": 7000, "Tags": ["x"]})
    entries = eventually(lambda: a2.get(f"/v1/catalog/service/{name}").json())
    assert [(e["Node"], e["ServiceID"], e["ServicePort"], e["ServiceTags"]) for e in entries] == \
        [("node1", sid, 7000, ["x"])]


def test_passing_requires_every_service_check_and_drops_warning(a1, a2):
    sid, name = f"svc-{uid()}", f"web-{uid()}"
    a1.register({"Name": name, "ID": sid, "Checks": [{"TTL": "10s", "Status": "passing"},
                                                     {"TTL": "10s", "Status": "warning"}]})
    eventually(lambda: a2.health(name))
    assert a2.health(name, passing=True) == []
    a1.put(f"/v1/agent/check/pass/service:{sid}:2")
    eventually(lambda: a2.health(name, passing=True))


def test_passing_requires_every_node_check(cluster, a1):
    a3 = Client(cluster.url("node3"))
    sid, name, node_check = f"svc-{uid()}", f"web-{uid()}", f"node-{uid()}"
    a3.register({"Name": name, "ID": sid, "Check": {"TTL": "10s", "Status": "passing"}})
    eventually(lambda: a1.health(name, passing=True))
    assert a3.put("/v1/agent/check/register", {"Name": node_check, "TTL": "10s"}).status == 200
    try:
        eventually(lambda: a1.health(name, passing=True) == [])
        assert len(a1.health(name)) == 1
    finally:
        a3.put(f"/v1/agent/check/deregister/{node_check}")


def test_tag_filters_instances(a1):
    name = f"web-{uid()}"
    a1.register({"Name": name, "ID": f"{name}-a", "Tags": ["primary"]})
    a1.register({"Name": name, "ID": f"{name}-b", "Tags": ["replica"]})
    tagged = eventually(lambda: a1.health(name, tag="primary"))
    assert [e["Service"]["ID"] for e in tagged] == [f"{name}-a"]


# -- KV ------------------------------------------------------------------------------------

def test_kv_put_then_get_returns_the_documented_entry(a1):
    key = f"test/{uid()}"
    put = a1.put(f"/v1/kv/{key}", "hello")
    assert (put.status, put.json()) == (200, True)
    got = a1.get(f"/v1/kv/{key}")
    entry = got.json()[0]
    assert (entry["Key"], decoded(entry), entry["Flags"], entry["LockIndex"]) == \
        (key, b"hello", 0, 0)
    assert "Session" not in entry or entry["Session"] == ""
    assert entry["CreateIndex"] == entry["ModifyIndex"]
    assert got.headers["X-Consul-Index"] == str(entry["ModifyIndex"])


def test_kv_missing_key_and_empty_prefix_are_404_with_index(a1):
    missing = a1.get(f"/v1/kv/test/{uid()}")
    assert missing.status == 404 and int(missing.headers["X-Consul-Index"]) > 0
    assert a1.get(f"/v1/kv/test/{uid()}/", recurse=True).status == 404
    assert a1.get(f"/v1/kv/test/{uid()}/", keys=True).status == 404


def test_kv_raw_returns_the_bytes(a1):
    key = f"test/{uid()}"
    value = bytes(range(256))
    a1.put(f"/v1/kv/{key}", value)
    assert a1.get(f"/v1/kv/{key}", raw=True).body == value


def test_kv_recurse_and_keys_with_separator(a1):
    base = f"test/{uid()}"
    for suffix in ("b/c", "b/d", "e"):
        a1.put(f"/v1/kv/{base}/{suffix}", suffix)
    entries = a1.get(f"/v1/kv/{base}/b/", recurse=True).json()
    assert [e["Key"] for e in entries] == [f"{base}/b/c", f"{base}/b/d"]
    keys = a1.get(f"/v1/kv/{base}/", keys=True, separator="/").json()
    assert keys == [f"{base}/b/", f"{base}/e"]


def test_kv_flags_are_stored_and_reset_by_a_put_without_them(a1):
    key = f"test/{uid()}"
    a1.put(f"/v1/kv/{key}", "v", flags=42)
    assert a1.kv(key)["Flags"] == 42
    a1.put(f"/v1/kv/{key}", "v")
    assert a1.kv(key)["Flags"] == 0


def test_kv_cas_put(a1):
    key = f"test/{uid()}"
    assert a1.put(f"/v1/kv/{key}", "first", cas=0).json() is True
    assert a1.put(f"/v1/kv/{key}", "again", cas=0).json() is False
    index = a1.kv(key)["ModifyIndex"]
    assert a1.put(f"/v1/kv/{key}", "stale", cas=index - 1).json() is False
    assert a1.put(f"/v1/kv/{key}", "second", cas=index).json() is True
    assert decoded(a1.kv(key)) == b"second"


def test_kv_delete_with_cas_and_recurse(a1):
    base = f"test/{uid()}"
    a1.put(f"/v1/kv/{base}/a", "1")
    a1.put(f"/v1/kv/{base}/b", "2")
    index = a1.kv(f"{base}/a")["ModifyIndex"]
    assert a1.delete(f"/v1/kv/{base}/a", cas=index + 1000).json() is False
    assert a1.delete(f"/v1/kv/{base}/a", cas=index).json() is True
    assert a1.kv(f"{base}/a") is None
    assert a1.delete(f"/v1/kv/{base}/", recurse=True).json() is True
    assert a1.kv(f"{base}/b") is None


def test_index_is_global_and_strictly_increasing(a1):
    base, sid = f"test/{uid()}", f"svc-{uid()}"
    seen = []
    for position in range(3):
        a1.put(f"/v1/kv/{base}/{position}", "x")
        seen.append(int(a1.get(f"/v1/kv/{base}/{position}").headers["X-Consul-Index"]))
    a1.register({"Name": sid, "ID": sid})
    seen.append(int(a1.get(f"/v1/health/service/{sid}").headers["X-Consul-Index"]))
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_blocking_kv_query_returns_when_the_key_changes(a1):
    key = f"test/{uid()}"
    a1.put(f"/v1/kv/{key}", "old")
    index = int(a1.get(f"/v1/kv/{key}").headers["X-Consul-Index"])
    timer = threading.Timer(0.3, lambda: a1.put(f"/v1/kv/{key}", "new"))
    timer.start()
    started = time.monotonic()
    result = a1.call("GET", f"/v1/kv/{key}", index=index, wait="10s")
    timer.join()
    assert time.monotonic() - started < 5
    assert int(result.headers["X-Consul-Index"]) > index
    assert decoded(result.json()[0]) == b"new"


def test_blocking_kv_query_times_out_with_the_same_index(a1):
    key = f"test/{uid()}"
    a1.put(f"/v1/kv/{key}", "still")
    index = int(a1.get(f"/v1/kv/{key}").headers["X-Consul-Index"])
    started = time.monotonic()
    result = a1.call("GET", f"/v1/kv/{key}", index=index, wait="1s")
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3
    assert (result.status, int(result.headers["X-Consul-Index"])) == (200, index)


def test_blocking_health_query_returns_when_a_check_changes(a1, a2):
    sid, name = f"svc-{uid()}", f"web-{uid()}"
    a1.register({"Name": name, "ID": sid, "Check": {"TTL": "10s"}})
    index = int(eventually(lambda: a2.get(f"/v1/health/service/{name}")).headers["X-Consul-Index"])
    timer = threading.Timer(0.3, lambda: a1.put(f"/v1/agent/check/pass/service:{sid}"))
    timer.start()
    result = a2.call("GET", f"/v1/health/service/{name}", index=index, wait="10s", passing="")
    timer.join()
    assert int(result.headers["X-Consul-Index"]) > index
    assert [e["Service"]["ID"] for e in result.json()] == [sid]


# -- sessions and locks -------------------------------------------------------------------

def test_session_defaults(a1):
    info = a1.get(f"/v1/session/info/{a1.session(Name='defaults')}").json()[0]
    assert (info["Node"], info["LockDelay"], info["Behavior"]) == ("node1", 15_000_000_000, "release")
    assert info.get("NodeChecks", info.get("Checks")) == ["serfHealth"]


def test_acquire_with_unknown_session_is_500(a1):
    result = a1.put(f"/v1/kv/test/{uid()}", "v", acquire=str(uuid.uuid4()))
    assert result.status == 500


def test_acquire_free_key_sets_session_and_lock_index(a1):
    key, session = f"test/{uid()}", a1.session()
    assert a1.put(f"/v1/kv/{key}", "mine", acquire=session).json() is True
    entry = a1.kv(key)
    assert (entry["Session"], entry["LockIndex"], decoded(entry)) == (session, 1, b"mine")


def test_acquire_held_by_another_session_is_false(a1, a2):
    key, holder, other = f"test/{uid()}", a1.session(), a2.session()
    a1.put(f"/v1/kv/{key}", "mine", acquire=holder)
    assert a2.put(f"/v1/kv/{key}", "yours", acquire=other).json() is False
    assert (a1.kv(key)["Session"], decoded(a1.kv(key))) == (holder, b"mine")


def test_acquire_by_holder_updates_value_keeps_lock_index(a1):
    key, session = f"test/{uid()}", a1.session()
    a1.put(f"/v1/kv/{key}", "one", acquire=session)
    assert a1.put(f"/v1/kv/{key}", "two", acquire=session).json() is True
    entry = a1.kv(key)
    assert (decoded(entry), entry["LockIndex"], entry["Session"]) == (b"two", 1, session)


def test_release_only_by_holder_and_without_lock_delay(a1, a2):
    key, holder, other = f"test/{uid()}", a1.session(), a2.session()
    a1.put(f"/v1/kv/{key}", "held", acquire=holder)
    assert a2.put(f"/v1/kv/{key}", "x", release=other).json() is False
    assert a1.put(f"/v1/kv/{key}", "freed", release=holder).json() is True
    entry = a1.kv(key)
    assert ("Session" not in entry or not entry["Session"]) and decoded(entry) == b"freed"
    assert a2.put(f"/v1/kv/{key}", "taken", acquire=other).json() is True
    assert a1.kv(key)["LockIndex"] == 2


def test_destroy_releases_locks_and_lock_delay_blocks_acquire(a1, a2):
    key, holder, other = f"test/{uid()}", a1.session(LockDelay="1s"), a2.session()
    a1.put(f"/v1/kv/{key}", "held", acquire=holder)
    destroyed_at = time.monotonic()
    assert a1.put(f"/v1/session/destroy/{holder}").json() is True
    entry = a1.kv(key)
    assert ("Session" not in entry or not entry["Session"]) and decoded(entry) == b"held"
    assert a2.put(f"/v1/kv/{key}", "mine", acquire=other).json() is False
    eventually(lambda: a2.put(f"/v1/kv/{key}", "mine", acquire=other).json(), timeout=4)
    assert time.monotonic() - destroyed_at >= 0.9


def test_zero_lock_delay_allows_immediate_acquire(a1, a2):
    key, holder, other = f"test/{uid()}", a1.session(LockDelay="0s"), a2.session()
    a1.put(f"/v1/kv/{key}", "held", acquire=holder)
    a1.put(f"/v1/session/destroy/{holder}")
    assert a2.put(f"/v1/kv/{key}", "mine", acquire=other).json() is True


def test_behavior_delete_deletes_held_keys(a1):
    key, session = f"test/{uid()}", a1.session(Behavior="delete", LockDelay="0s")
    a1.put(f"/v1/kv/{key}", "v", acquire=session)
    a1.put(f"/v1/session/destroy/{session}")
    assert a1.kv(key) is None


def test_session_ttl_expiry_invalidates_not_before_ttl(a1):
    key, session = f"test/{uid()}", a1.session(TTL="1s", LockDelay="0s")
    a1.put(f"/v1/kv/{key}", "v", acquire=session)
    time.sleep(0.8)
    assert a1.get(f"/v1/session/info/{session}").json() != []
    eventually(lambda: a1.get(f"/v1/session/info/{session}").json() == [], timeout=6)
    entry = a1.kv(key)
    assert "Session" not in entry or not entry["Session"]


def test_renew_extends_and_answers_404_once_gone(a1):
    session = a1.session(TTL="1s")
    for _ in range(4):
        renewed = a1.put(f"/v1/session/renew/{session}")
        assert renewed.status == 200 and renewed.json()[0]["ID"] == session
        time.sleep(0.6)
    a1.put(f"/v1/session/destroy/{session}")
    assert a1.put(f"/v1/session/renew/{session}").status == 404


def test_session_is_invalidated_when_one_of_its_checks_goes_critical(a1):
    sid, key = f"svc-{uid()}", f"test/{uid()}"
    a1.register({"Name": "web", "ID": sid, "Check": {"TTL": "10s", "Status": "passing"}})
    session = a1.session(Checks=["serfHealth", f"service:{sid}"], LockDelay="0s")
    a1.put(f"/v1/kv/{key}", "v", acquire=session)
    a1.put(f"/v1/agent/check/fail/service:{sid}")
    eventually(lambda: a1.get(f"/v1/session/info/{session}").json() == [])
    assert not a1.kv(key).get("Session")


def test_session_against_critical_check_fails(a1):
    sid = f"svc-{uid()}"
    a1.register({"Name": "web", "ID": sid, "Check": {"TTL": "10s"}})
    result = a1.put("/v1/session/create", {"Checks": ["serfHealth", f"service:{sid}"]})
    assert result.status == 500 and "critical" in result.text


def test_session_ttl_outside_limits_is_rejected(a1):
    assert a1.put("/v1/session/create", {"TTL": "86401s"}).status == 500
    assert a1.put("/v1/session/create", {"TTL": "500ms"}).status == 500


# -- the double's control API and process -------------------------------------------------

@double_only
def test_killed_agent_fails_its_node_and_invalidates_its_sessions(start_double):
    double = start_double(failure_detection=0.3, member_reconcile=0.3)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    two.register({"Name": "web", "ID": "w2", "Check": {"TTL": "30s", "Status": "passing"}})
    session = two.session(LockDelay="0s")
    two.put("/v1/kv/lock", "v", acquire=session)
    double.kill_agent("node2")
    eventually(lambda: one.health("web", passing=True) == [])
    serf = [c for c in one.health("web")[0]["Checks"] if c["CheckID"] == "serfHealth"]
    assert serf[0]["Status"] == "critical"
    assert one.get(f"/v1/session/info/{session}").json() == []
    assert not one.kv("lock").get("Session")
    with pytest.raises(OSError):
        two.get("/v1/agent/self", timeout=2)
    double.revive_agent("node2")
    assert two.get("/v1/agent/self").json()["Config"]["NodeName"] == "node2"
    eventually(lambda: one.health("web", passing=True) != [])


def persisted(double: consul_backend.DoubleCluster, node: str, folder: str, identifier: str) -> dict | None:
    path = os.path.join(double.data_dir(node), folder, agent_data_dir.file_name(identifier))
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


@double_only
def test_agent_persists_registrations_and_ttl_status_in_consuls_layout(start_double, tmp_path):
    double = start_double(data_dir_template=str(tmp_path / "{node}"))
    two = Client(double.url("node2"))
    two.register({"Name": "web", "ID": "w2", "Port": 80, "Check": {"TTL": "30s"}})
    assert persisted(double, "node2", "checks/state", "service:w2") is None, "registering writes no state"
    before = time.time()
    assert two.put("/v1/agent/check/pass/service:w2", note="fine").status == 200

    service = persisted(double, "node2", "services", "w2")
    assert service["Service"]["Service"] == "web" and service["Service"]["Port"] == 80
    check = persisted(double, "node2", "checks", "service:w2")
    assert check["Check"]["ServiceID"] == "w2" and check["ChkType"]["TTL"] == 30 * 10**9
    state = persisted(double, "node2", "checks/state", "service:w2")
    assert (state["CheckID"], state["Status"], state["Output"]) == ("service:w2", "passing", "fine")
    assert int(before) + 30 <= state["Expires"] <= int(time.time()) + 30

    assert two.put("/v1/agent/service/deregister/w2").status == 200
    for folder, identifier in (("services", "w2"), ("checks", "service:w2"), ("checks/state", "service:w2")):
        assert persisted(double, "node2", folder, identifier) is None, f"{folder} kept after deregistration"


@double_only
def test_revived_agent_restores_a_ttl_status_only_from_an_unexpired_state_file(start_double, tmp_path):
    double = start_double(data_dir_template=str(tmp_path / "{node}"), failure_detection=0,
                          member_reconcile=0)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    for sid in ("kept", "cleared"):
        two.register({"Name": sid, "ID": sid, "Check": {"TTL": "30s"}})
        two.put(f"/v1/agent/check/pass/service:{sid}")
    two.register({"Name": "short", "ID": "short", "Check": {"TTL": "1s"}})
    two.put("/v1/agent/check/pass/service:short")
    double.kill_agent("node2")
    os.unlink(os.path.join(double.data_dir("node2"), "checks", "state", agent_data_dir.file_name("service:cleared")))
    time.sleep(2.1)  # past the 1 s TTL of `short`, in whole seconds as Consul compares them
    double.revive_agent("node2")
    double.sync_agent("node2")

    assert [e["Service"]["ID"] for e in one.health("kept", passing=True)] == ["kept"]
    for sid in ("cleared", "short"):
        assert [e["Service"]["ID"] for e in one.health(sid)] == [sid], f"{sid} was not restored"
        assert one.health(sid, passing=True) == [], f"{sid} passes without a live state file"
        assert two.check_status(f"service:{sid}") == "critical"
    assert persisted(double, "node2", "checks/state", "service:short") is None, "an expired state is deleted"


@double_only
def test_revived_agent_drops_a_service_whose_file_is_gone_and_its_checks(start_double, tmp_path):
    double = start_double(data_dir_template=str(tmp_path / "{node}"))
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    two.register({"Name": "web", "ID": "w2", "Check": {"TTL": "30s", "Status": "passing"}})
    double.kill_agent("node2")
    os.unlink(os.path.join(double.data_dir("node2"), "services", agent_data_dir.file_name("w2")))
    double.revive_agent("node2")
    double.sync_agent("node2")
    assert one.health("web") == []
    assert "service:w2" not in two.get("/v1/agent/checks").json()
    assert persisted(double, "node2", "checks", "service:w2") is None


@double_only
def test_agent_added_at_runtime_answers_on_its_own_port(start_double):
    double = start_double(member_reconcile=0.2)
    added = Client(double.add_agent("node9").url)
    assert added.get("/v1/agent/self").json()["Config"]["NodeName"] == "node9"
    created = eventually(lambda: (answer := added.put("/v1/session/create", {})).status == 200 and answer)
    session = created.json()["ID"]
    assert added.get(f"/v1/session/info/{session}").json()[0]["Node"] == "node9"
    with open(os.path.join(double.workdir, "consul-double.ready.json")) as handle:
        assert "node9" in json.load(handle)["agents"]


def test_token_is_required_when_acls_are_on():
    token = str(uuid.uuid4())
    with consul_backend.start_cluster(["node1"], token=token) as secured:
        anonymous, wrong = Client(secured.url("node1")), Client(secured.url("node1"), "bad")
        denied = anonymous.get("/v1/kv/anything")
        assert denied.status == 403 and denied.text.startswith("Permission denied")
        unknown = wrong.get("/v1/kv/anything")
        assert (unknown.status, unknown.text.strip()) == (403, "ACL not found")
        assert anonymous.put("/v1/kv/anything", "v").status == 403
        assert Client(secured.url("node1"), token).get("/v1/kv/anything").status == 404


@double_only
def test_sigterm_stops_the_double_cleanly(start_double):
    double = start_double()
    double.process.send_signal(signal.SIGTERM)
    assert double.process.wait(timeout=5) == 0
    with pytest.raises(OSError):
        http_call(double.url("node1") + "/v1/agent/self", timeout=2)


@double_only
def test_bad_command_line_is_refused():
    result = subprocess.run([sys.executable, consul_backend.DOUBLE_SCRIPT,
                             "--agents", "a b"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and "invalid node name" in result.stderr
