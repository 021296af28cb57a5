"""When Consul's catalog follows its agents, pinned on the double with `timing="consul"`.

Each rule names the Consul source it comes from (github.com/hashicorp/consul):
- agent/ae/ae.go: a (re)started agent's first full sync waits a random 0-3 s
  (serverUpIntv) after it finds a server; until then the catalog keeps the node's
  entries as they were before the crash;
- agent/agent_endpoint.go: every agent write endpoint calls SyncChanges itself, which
  sends what the agent has marked out of sync, whatever the anti-entropy loop's state;
- agent/consul/leader.go (reconcileMember): serfHealth changes only when gossip has
  detected a failure, or the leader has reconciled a (re)joined member;
- agent/consul/state/session.go: session creation checks the catalog's node and checks.

The delays are given small here, where the rule and not Consul's duration is the point.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

import agent_data_dir
import consul_backend
import consul_double
from consul_state import Timing
from test_consul_contract import Client, eventually

pytestmark = pytest.mark.skipif(consul_backend.selected_backend() != "double",
                                reason="drives the double's control API")


@pytest.fixture
def consul(tmp_path):
    """A private double with Consul's timing and the delays a test gives."""
    started: list[consul_backend.DoubleCluster] = []

    def start(**options: Any) -> consul_backend.DoubleCluster:
        options.setdefault("data_dir_template", str(tmp_path / "{node}"))
        double = consul_backend.start_double(["node1", "node2"], timing="consul", **options)
        started.append(double)
        return double

    yield start
    for double in started:
        double.stop()


def passing_ids(client: Client, service: str) -> list[str]:
    return [entry["Service"]["ID"] for entry in client.health(service, passing=True)]


def serf_status(client: Client, node: str) -> str | None:
    """The node's serfHealth as the catalog has it, read where a leader is not needed."""
    for entry in client.get("/v1/health/service/probe", stale=True).json():
        if entry["Node"]["Node"] == node:
            return next(c["Status"] for c in entry["Checks"] if c["CheckID"] == "serfHealth")
    return None


def restart_with_cleared_status(double: consul_backend.DoubleCluster, two: Client) -> None:
    """node2 runs `web` passing, crashes, and comes back with its check critical (its state
    file removed, as preStart does): the agent's truth differs from the catalog's."""
    two.register({"Name": "web", "ID": "w2", "Check": {"TTL": "30s"}})
    assert two.put("/v1/agent/check/pass/service:w2").status == 200
    double.kill_agent("node2")
    os.unlink(os.path.join(double.data_dir("node2"), "checks", "state", agent_data_dir.file_name("service:w2")))
    double.revive_agent("node2")


def test_the_catalog_keeps_a_restarted_agents_old_statuses_until_its_full_sync(consul):
    double = consul(failure_detection=0, member_reconcile=0, sync_stagger=600)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    restart_with_cleared_status(double, two)
    assert two.check_status("service:w2") == "critical"
    assert passing_ids(one, "web") == ["w2"], "the catalog took the restarted agent's state before its sync"
    double.sync_agent("node2")
    assert passing_ids(one, "web") == []


def test_the_first_full_sync_comes_within_the_stagger(consul):
    double = consul(failure_detection=0, member_reconcile=0, sync_stagger=1.0)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    restart_with_cleared_status(double, two)
    revived = time.monotonic()
    eventually(lambda: passing_ids(one, "web") == [], timeout=3, interval=0.02)
    assert time.monotonic() - revived < 1.3


def test_an_agent_write_sends_what_the_restarted_agent_has_not_synced(consul):
    double = consul(failure_detection=0, member_reconcile=0, sync_stagger=600)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    restart_with_cleared_status(double, two)
    assert passing_ids(one, "web") == ["w2"]
    two.register({"Name": "other", "ID": "o2", "Check": {"TTL": "30s"}})
    assert passing_ids(one, "web") == [], "SyncChanges did not send the restored critical check"


def test_a_ttl_that_runs_out_before_the_first_sync_stays_on_the_agent(consul):
    double = consul(failure_detection=0, member_reconcile=0, sync_stagger=600, data_dir_template=None)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    two.register({"Name": "web", "ID": "w2", "Check": {"TTL": "1s", "Status": "passing"}})
    double.kill_agent("node2")
    double.revive_agent("node2")
    eventually(lambda: two.check_status("service:w2") == "critical", timeout=3)
    assert passing_ids(one, "web") == ["w2"], "an anti-entropy trigger synced while a full sync was pending"


def test_serf_health_fails_only_once_gossip_has_detected_the_death(consul):
    double = consul(failure_detection=1.0)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    two.register({"Name": "probe", "ID": "p2", "Check": {"TTL": "30s", "Status": "passing"}})
    session = two.session(LockDelay="0s")
    killed = time.monotonic()
    double.kill_agent("node2")
    time.sleep(0.5)
    assert passing_ids(one, "probe") == ["p2"], "serfHealth failed before failure detection"
    assert one.get(f"/v1/session/info/{session}").json() != []
    eventually(lambda: passing_ids(one, "probe") == [], timeout=3, interval=0.02)
    assert time.monotonic() - killed >= 1.0
    assert one.get(f"/v1/session/info/{session}").json() == []


def test_a_session_waits_for_the_leader_to_reconcile_a_restarted_node(consul):
    double = consul(failure_detection=0, member_reconcile=1.0)
    two = Client(double.url("node2"))
    double.kill_agent("node2")
    double.revive_agent("node2")
    refused = two.put("/v1/session/create", {})
    assert (refused.status, refused.text) == (500, "Check 'serfHealth' is in critical state")
    eventually(lambda: two.put("/v1/session/create", {}).status == 200, timeout=3)


def test_a_new_node_has_no_node_then_no_serf_health_until_reconciled(consul):
    double = consul(member_reconcile=1.0, sync_stagger=600)
    added = Client(double.add_agent("node9").url)
    first = added.put("/v1/session/create", {})
    assert (first.status, first.text) == (500, "Missing node registration")
    added.register({"Name": "web", "ID": "w9", "Check": {"TTL": "30s"}})  # syncs the node itself
    second = added.put("/v1/session/create", {})
    assert (second.status, second.text) == (500, "Missing check 'serfHealth' registration")
    eventually(lambda: added.put("/v1/session/create", {}).status == 200, timeout=3)


def test_without_a_leader_the_catalog_stands_still(consul):
    double = consul(failure_detection=0.2, member_reconcile=0, data_dir_template=None)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    one.register({"Name": "web", "ID": "w1", "Check": {"TTL": "30s", "Status": "passing"}})
    two.register({"Name": "probe", "ID": "p2", "Check": {"TTL": "30s", "Status": "passing"}})
    session = two.session(LockDelay="0s")
    double.set_leader(False)

    assert one.put("/v1/agent/service/deregister/w1").status == 200, "the agent answers from local state"
    assert one.get("/v1/agent/services").json() == {}
    stale = one.get("/v1/health/service/web", stale=True)
    assert [e["Service"]["ID"] for e in stale.json()] == ["w1"]
    double.kill_agent("node2")
    time.sleep(0.5)
    assert serf_status(one, "node2") == "passing", "a failure was reconciled without a leader"
    assert one.get(f"/v1/session/info/{session}", stale=True).json() != []

    double.set_leader(True)
    eventually(lambda: serf_status(one, "node2") == "critical", timeout=3)
    assert one.get(f"/v1/session/info/{session}").json() == []
    assert [e["Service"]["ID"] for e in one.health("web")] == ["w1"], "synced without a trigger"
    one.register({"Name": "other", "ID": "o1", "Check": {"TTL": "30s"}})
    assert one.health("web") == []


def test_the_defaults_are_consuls_own():
    arguments = consul_double.parse_arguments(["--agents", "node1"])
    timing = Timing()
    assert (timing.failure_detection, timing.member_reconcile, timing.sync_stagger) == (5.0, 1.0, 3.0)
    assert (timing.retry_fail, timing.full_sync_interval, timing.freeze_without_leader) == (15.0, 60.0, True)
    assert (arguments.failure_detection, arguments.member_reconcile, arguments.sync_stagger) == (5.0, 1.0, 3.0)
    assert not arguments.instant
    assert Timing.instant().failure_detection == 0


def test_a_partitioned_agent_answers_for_itself_forwards_nothing_and_syncs_at_the_heal(consul):
    """A client agent cut off from the servers (DESIGN, Consul semantics): its own API still
    answers, calls it must forward fail with 500, its node fails gossip after the failure
    detection, and what it changed meanwhile reaches the catalog at its sync after the heal."""
    double = consul(failure_detection=0.2, member_reconcile=0.1, sync_stagger=0)
    one, two = Client(double.url("node1")), Client(double.url("node2"))
    two.register({"Name": "web", "ID": "w2", "Check": {"TTL": "30s"}})
    assert two.put("/v1/agent/check/pass/service:w2").status == 200
    eventually(lambda: passing_ids(one, "web") == ["w2"])

    def statuses() -> dict[str, str]:
        return {c["CheckID"]: c["Status"] for c in one.health("web")[0]["Checks"]}

    double.partition_agent("node2")

    assert two.get("/v1/agent/services").status == 200
    for path in ("/v1/health/service/web", "/v1/kv/anything", "/v1/status/leader"):
        answer = two.get(path)
        assert (answer.status, answer.text) == (500, "No known Consul servers"), path
    assert two.get("/v1/health/service/web", stale=True).status == 500
    eventually(lambda: passing_ids(one, "web") == [])
    assert statuses()["serfHealth"] == "critical"

    # Changes made while cut off stay with the agent: the catalog still has the passing check.
    assert two.put("/v1/agent/check/warn/service:w2").status == 200
    assert two.check_status("service:w2") == "warning"
    assert statuses()["service:w2"] == "passing"

    double.heal_agent("node2")
    eventually(lambda: statuses() == {"serfHealth": "passing", "service:w2": "warning"})
    assert passing_ids(one, "web") == []
    assert two.get("/v1/health/service/web").status == 200
