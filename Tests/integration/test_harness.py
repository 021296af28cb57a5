"""Self-tests of the bed: it plays ContainerPilot's job rules, not just the happy path."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from harness import (Cluster, HarnessError, RedisManageHooks, StubHooks, WaitTimeout, process_alive,
                     wait_until)
from pilot import Event

# A node's life in shell commands, shaped like etc/containerpilot.json5, so the job rules
# are checked quickly and without Redis.
SYNTHETIC_CONFIG = """
{
  consul: "{{ .CONSUL_HTTP_ADDR }}",
  jobs: [
    { name: "preStart", exec: ["sh", "-c", "echo prestart"] },
    { name: "consul-agent", exec: ["consul", "agent"],
      when: { source: "preStart", once: "exitSuccess" },
      health: { exec: ["consul", "join"], interval: 1, ttl: 2 } },
    { name: "onStart", exec: ["sh", "-c", "echo onstart"],
      when: { source: "consul-agent", once: "healthy" } },
    { name: "server",
      exec: ["sh", "-c", "trap 'date +%s.%N > {{ .REDIS_RUN_DIR }}/server-term; exit 0' TERM; while :; do sleep 0.05; done"],
      port: {{ .SENTINEL_PORT }},
      when: { source: "onStart", once: "exitSuccess" },
      restarts: "unlimited",
      stopTimeout: "5s",
      health: { exec: ["true"], interval: 1, ttl: 3, timeout: "1s" } },
    { name: "stubborn", exec: ["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
      when: { source: "onStart", once: "exitSuccess" },
      stopTimeout: "1s",
      health: { exec: ["sleep", "30"], interval: 1, ttl: 3, timeout: "500ms" } },
    { name: "preStop",
      exec: ["sh", "-c", "date +%s.%N > {{ .REDIS_RUN_DIR }}/prestop-start; sleep 0.5; date +%s.%N > {{ .REDIS_RUN_DIR }}/prestop-end"],
      when: { source: "server", once: "stopping" },
      timeout: "5s" },
    { name: "tick", exec: ["sh", "-c", "echo tick >> {{ .REDIS_RUN_DIR }}/ticks"],
      when: { interval: "1s" } }
  ]
}
"""


def _time_in(path: Path) -> float:
    return float(path.read_text().strip())


def test_jobs_run_in_containerpilot_order_and_stop_after_prestop(cluster_factory, tmp_path) -> None:
    config = tmp_path / "synthetic.json5"
    config.write_text(SYNTHETIC_CONFIG)
    cluster = cluster_factory(size=1, hooks=StubHooks(), interval_scale=0.5, config_path=config)
    cluster.start()
    node = cluster.nodes[0]

    wait_until(lambda: node.job_pid("server"), 10, "the server job started")
    events = node.events()
    order = [events.index(Event(code, source)) for code, source in [
        ("startup", "global"), ("exitSuccess", "preStart"), ("healthy", "consul-agent"),
        ("exitSuccess", "onStart")]]
    assert order == sorted(order), events

    # A job with a port is registered as <job>-<node> with a TTL check passed by its health.
    registered = wait_until(lambda: cluster.passing("server"), 10, "the server service passes in Consul")
    assert [(r.service_id, r.port) for r in registered] == [("server-node1", node.sentinel_port)]

    # A health exec that outlives its timeout is killed and reported unhealthy.
    wait_until(lambda: node.saw("unhealthy", "stubborn"), 10, "the stubborn job's slow health exec failed")
    sleeps = [pid for pid, argv in node.spawned() if argv == ("sleep", "30")]
    assert [pid for pid in sleeps if not process_alive(pid)], "a timed-out health exec was not killed"

    # A periodic job runs at startup and then every interval (1 s here at scale 0.5 -> 0.5 s).
    ticks = node.run_dir / "ticks"
    wait_until(lambda: ticks.exists() and len(ticks.read_text().splitlines()) >= 3, 10,
               "the periodic job ran three times")

    stubborn_pid = node.job_pid("stubborn")
    started = time.monotonic()
    node.stop(timeout=20, stop_agent=False)
    # preStop ran to its end before the server got SIGTERM.
    assert _time_in(node.run_dir / "prestop-end") <= _time_in(node.run_dir / "server-term")
    # A job that ignores SIGTERM is killed once every job is done and ContainerPilot's
    # top-level stopTimeout (5 s, 2.5 s at this scale) has passed; its own stopTimeout
    # bounds nothing.
    assert stubborn_pid is not None and not process_alive(stubborn_pid)
    assert time.monotonic() - started >= 2.5
    assert node.saw("stopped", "stubborn")
    # The job's service left Consul with it.
    assert cluster.passing("server") == [] and node.consul().agent_services() == {}
    cluster.teardown()
    wait_until(lambda: not cluster.leftover_processes(), 10, "every process of the cluster is gone")


def test_a_killed_redis_server_is_restarted(cluster_factory) -> None:
    cluster = cluster_factory(size=1, hooks=StubHooks(), interval_scale=0.2)
    cluster.start()
    node = cluster.nodes[0]
    wait_until(lambda: node.redis("PING") == b"PONG", 15, "redis-server answers")
    assert node.job_starts("redis") == 1

    old_pid = node.kill_job_process("redis", signal.SIGKILL)

    wait_until(lambda: node.job_pid("redis") not in (None, old_pid), 10, "the redis job started a new server")
    wait_until(lambda: node.redis("PING") == b"PONG", 10, "the restarted redis-server answers")
    assert node.job_starts("redis") == 2
    assert not process_alive(old_pid)
    assert node.saw("exitFailed", "redis")
    # Sentinel and the agent stand-in were left alone.
    assert node.job_starts("redis-sentinel") == 1


def test_a_node_restarts_on_its_data_after_kill_9(cluster_factory) -> None:
    cluster = cluster_factory(size=2, hooks=StubHooks(), interval_scale=0.2)
    cluster.start()
    node = cluster.nodes[0]
    wait_until(lambda: len(cluster.passing("redis")) == 1, 15, "node1 is the passing redis")
    assert node.redis("SET", "kept", "yes") == b"OK"
    # appendfsync everysec: give the write time to reach the AOF before the kill.
    time.sleep(1.5)
    pids = node.spawned_pids()

    node.kill()
    assert node.role() is None
    assert not [pid for pid in pids if process_alive(pid)]
    assert not node.saw("stopping", "redis"), "a killed node ran its stop path"
    # node2's agent answers for the catalog: node1's agent is dead, so nothing passes there.
    wait_until(lambda: cluster.passing("redis") == [], 10, "node1's redis stops passing in Consul")

    node.start()
    wait_until(lambda: node.redis("PING") == b"PONG", 15, "redis-server answers after the restart")
    assert node.redis("GET", "kept") == b"yes"
    wait_until(lambda: len(cluster.passing("redis")) == 1, 15, "the restarted node passes again")


def test_a_node_added_later_joins_with_its_own_agent(cluster_factory) -> None:
    cluster = cluster_factory(size=1, hooks=StubHooks(), interval_scale=0.2)
    cluster.start()
    added = cluster.add_node()
    assert added.name == "node2" and added.agent_port != cluster.nodes[0].agent_port
    replicas = wait_until(lambda: cluster.passing("redis-replica"), 15, "node2 passes as a replica",
                          describe=cluster.describe)
    assert [(r.service_id, r.port) for r in replicas] == [("redis-replica-node2", added.redis_port)]


def test_a_missing_redis_manage_binary_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(HarnessError, match="swift build"):
        Cluster(tmp_path / "cluster", hooks=RedisManageHooks(tmp_path / "no-build"))


def test_wait_until_returns_the_value_or_fails_with_the_message() -> None:
    calls = iter([0, None, "ready"])
    assert wait_until(lambda: next(calls), 5, "never", interval=0.01) == "ready"
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="the thing happened.*ValueError"):
        wait_until(lambda: int("x"), 0.3, "the thing happened", interval=0.05)
    assert 0.3 <= time.monotonic() - started < 2
