"""What ContainerPilot 3.8.0 really does, and the node surviving it (issue 11).

Each test is one finding of running the real ContainerPilot 3.8.0 on etc/containerpilot.json5,
numbered as in the issue; `pytest -k containerpilot_fidelity` runs them. The harness plays
ContainerPilot as its source says (pilot.py names the file each behaviour follows). The
write-loss scenarios write straight to the old master's address, as a client that resolved it
before the failover would, and count the acknowledged writes missing afterwards: it must be 0.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Optional

import resp
from consul_http import ConsulHTTPError
from harness import Cluster, Node, RedisManageHooks, StubHooks, process_alive, wait_until
from sampling import passing_ports
from test_backup import fill, kv, run_hook, store_files
from test_lifecycle import (consul_instances, make_cluster, node_env, replica_of, wait_for_roles,
                            wait_for_sentinels)

SCALE = 0.2
LOCK_KEY = "service/redis/locks/master"


class DirectWriter:
    """SETs one new key at a time to one fixed address, whatever the cluster says."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.acknowledged: list[str] = []
        self.refusals: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"direct-writer-{port}")

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            key = f"fidelity:{self.port}:{index}"
            index += 1
            try:
                if resp.command(self.port, "SET", key, "v", timeout=0.5) == b"OK":
                    self.acknowledged.append(key)
                    continue
                self.refusals.append("not OK")
            except (resp.RedisConnectionError, resp.RedisReplyError) as error:
                self.refusals.append(str(error))
            time.sleep(0.01)

    def __enter__(self) -> "DirectWriter":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def sentinels_name_other_than(cluster: Cluster, old: Node) -> Optional[Node]:
    """The node every other running sentinel names master, when they agree on one that is not `old`."""
    named = {view.master for name, view in cluster.sentinel_views().items() if name != old.name}
    if len(named) != 1:
        return None
    master = named.pop()
    return None if master is None or master[1] == old.redis_port else cluster.node_by_redis_port(master[1])


def missing_on(node: Node, keys: list[str]) -> list[str]:
    return [key for key in keys if node.redis("EXISTS", key) != 1]


# --- 1 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_1_a_replaced_master_restarted_by_its_job_never_acknowledges_a_write(
        cluster_factory) -> None:
    """The job restarts a killed redis-server within ~10 ms on the same command line; onStart
    does not run. A master frozen until Sentinel replaced it, then killed, must come back as a
    replica: a writer on its address gets READONLY, never an acknowledgement that is lost."""
    cluster = make_cluster(cluster_factory, 3).start()
    old, _ = wait_for_roles(cluster, replicas=2)
    wait_for_sentinels(cluster, old)
    starts = old.job_starts("redis")

    old.kill_job_process("redis", signal.SIGSTOP)
    new = wait_until(lambda: sentinels_name_other_than(cluster, old), 30,
                     f"the other sentinels replace the frozen {old.name}", describe=cluster.describe)
    with DirectWriter(old.redis_port) as writer:
        old.kill_job_process("redis", signal.SIGKILL)
        wait_until(lambda: old.job_starts("redis") > starts and old.role() is not None, 15,
                   f"the redis job restarted {old.name}'s server", describe=cluster.describe)
        wait_until(lambda: replica_of(old) == new.redis_port, 30,
                   f"the restarted {old.name} replicates {new.name}", describe=cluster.describe)
        time.sleep(1)

    assert any("READONLY" in refusal for refusal in writer.refusals), (
        f"the writer never reached the restarted server as a replica: {writer.refusals[-5:]}")
    lost = missing_on(new, writer.acknowledged)
    assert not lost, (f"{len(lost)} of {len(writer.acknowledged)} writes the restarted {old.name} acknowledged "
                      f"are missing on the master {new.name}")
    assert old.job_starts("redis") == starts + 1


def test_containerpilot_fidelity_1b_a_hung_master_killed_at_down_after_waits_for_the_sentinels_verdict(
        cluster_factory) -> None:
    """A hung master killed as soon as down-after has passed (as a liveness probe would) is
    restarted by its job at once, before the sentinels have flagged it down, but they go on
    to fail it over: Sentinel counts from its oldest unanswered PING across the reconnection.
    Coming back writable then makes two masters until Sentinel demotes it; it must wait for
    the sentinels' verdict instead, and a writer on its address loses nothing."""
    cluster = make_cluster(cluster_factory, 3).start()
    old, _ = wait_for_roles(cluster, replicas=2)
    wait_for_sentinels(cluster, old)
    starts = old.job_starts("redis")

    old.kill_job_process("redis", signal.SIGSTOP)
    time.sleep(1.0)  # SENTINEL_DOWN_AFTER of make_cluster
    with DirectWriter(old.redis_port) as writer:
        old.kill_job_process("redis", signal.SIGKILL)
        new = wait_until(lambda: sentinels_name_other_than(cluster, old), 30,
                         f"the other sentinels replace the killed {old.name}", describe=cluster.describe)
        wait_until(lambda: replica_of(old) == new.redis_port, 30,
                   f"the restarted {old.name} replicates {new.name}", describe=cluster.describe)
        time.sleep(1)

    lost = missing_on(new, writer.acknowledged)
    assert not lost, (f"{len(lost)} of {len(writer.acknowledged)} writes the restarted {old.name} acknowledged "
                      f"are missing on the master {new.name}")
    log = old.log_path.read_text(errors="replace")
    assert "waiting for the sentinels' verdict" in log, log[-3000:]
    assert old.job_starts("redis") == starts + 1


# --- 2 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_2_a_master_back_without_its_data_hands_over_instead_of_wiping_the_replicas(
        cluster_factory) -> None:
    """The master's container comes back on an empty data dir before Sentinel has noticed it
    gone (a long SENTINEL_DOWN_AFTER): the sentinels still name it, its replicas hold the data.
    It must ask Sentinel to promote a replica and join as a replica, not wipe them."""
    env = dict(node_env(), SENTINEL_DOWN_AFTER="30s")
    cluster = cluster_factory(size=3, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=env).start()
    old, replicas = wait_for_roles(cluster, replicas=2)
    wait_for_sentinels(cluster, old)
    keys = [f"kept:{index}" for index in range(200)]
    for key in keys:
        assert old.redis("SET", key, "v") == b"OK"
    for replica in replicas:
        wait_until(lambda: replica.redis("DBSIZE") == len(keys), 10, f"{replica.name} has every key")

    old.kill()
    shutil.rmtree(old.data_dir)
    old.data_dir.mkdir()
    old.start()

    new = wait_until(lambda: sentinels_name_other_than(cluster, old), 25,
                     "a replica is promoted in place of the emptied master", describe=cluster.describe)
    wait_until(lambda: replica_of(old) == new.redis_port, 30, f"{old.name} joins {new.name} as a replica",
               describe=cluster.describe)
    assert new in replicas
    wait_until(lambda: old.redis("DBSIZE") == len(keys), 15, f"{old.name} copied the data back")
    for node in cluster.nodes:
        assert missing_on(node, keys) == [], f"{node.name} lost keys"
    assert "asking Sentinel to promote one" in old.log_path.read_text(errors="replace")


# --- 3 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_3_a_bootstrap_lock_lost_during_the_restore_stops_the_start(
        cluster_factory, tmp_path) -> None:
    """The first master of an empty cluster restores the last backup under the bootstrap lock.
    If its session is destroyed meanwhile, another node may take the lock: the node must not
    start as master, and says why."""
    backups = tmp_path / "backups"
    env = {"BACKUP_DIR": str(backups), "BACKUP_TTL": "1h", "MASTER_WAIT_TIMEOUT": "3s", "BACKUP_SAVE_TIMEOUT": "120s"}
    cluster = cluster_factory(size=1, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=env).start()
    node, _ = wait_for_roles(cluster, replicas=0)
    fill(node, 60000, seed=3)
    result = run_hook(node, "backup", "--now")
    assert result.returncode == 0, result.stdout + result.stderr
    assert store_files(backups)

    node.stop()
    for directory in (node.data_dir, node.run_dir, node.etc_dir):
        shutil.rmtree(directory)
        directory.mkdir()
    destroyed: list[str] = []

    def destroy_the_lock_session() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not destroyed:
            try:
                pairs = node.consul(timeout=0.5).request("GET", f"/v1/kv/{LOCK_KEY}") or []
            except ConsulHTTPError:
                pairs = []
            session = (pairs or [{}])[0].get("Session")
            restoring = "restoring it" in node.log_path.read_text(errors="replace").split("starting node1")[-1]
            if session and restoring:
                node.consul().request("PUT", f"/v1/session/destroy/{session}")
                destroyed.append(session)
                return
            time.sleep(0.01)

    thief = threading.Thread(target=destroy_the_lock_session, daemon=True)
    thief.start()
    node.start()
    thief.join(70)
    assert destroyed, "the restore never ran under the lock"
    assert node.wait_exited(60), "the node did not end after losing the lock"
    log = node.log_path.read_text(errors="replace").split("starting node1")[-1]
    assert "bootstrap lock service/redis/locks/master was lost" in log, log[-3000:]
    assert not node.saw("exitSuccess", "onStart")
    assert node.role() is None


# --- 4 --------------------------------------------------------------------------------------

STOP_CONFIG = """
{
  consul: "{{ .CONSUL_HTTP_ADDR }}",
  jobs: [
    { name: "server",
      exec: ["sh", "-c", "trap 'date +%s.%N > {{ .REDIS_RUN_DIR }}/server-term; exit 0' TERM; while :; do sleep 0.05; done"],
      stopTimeout: "1s" },
    { name: "preStop",
      exec: ["sh", "-c", "sleep 3; date +%s.%N > {{ .REDIS_RUN_DIR }}/prestop-end"],
      when: { source: "server", once: "stopping" },
      timeout: "10s" }
  ]
}
"""


def test_containerpilot_fidelity_4_a_jobs_stop_timeout_bounds_nothing(cluster_factory, tmp_path) -> None:
    """jobs.go cleanup waits for the dependent's `stopped` and never matches its own
    stopping-timeout event: the server is signalled only after preStop's 3 s, not after 1 s."""
    config = tmp_path / "stop.json5"
    config.write_text(STOP_CONFIG)
    cluster = cluster_factory(size=1, hooks=StubHooks(), interval_scale=SCALE, config_path=config).start()
    node = cluster.nodes[0]
    wait_until(lambda: node.job_pid("server"), 10, "the server job runs")
    node.stop(timeout=20, stop_agent=False)
    ended = float((node.run_dir / "prestop-end").read_text())
    termed = float((node.run_dir / "server-term").read_text())
    assert termed >= ended, f"the server got SIGTERM {ended - termed:.2f}s before preStop ended"


# --- 5 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_5_a_failed_prestart_or_onstart_ends_the_container(cluster_factory) -> None:
    """ContainerPilot exits only when every job is done; the agent and the backup job never are.
    A failed preStart (bad settings) or onStart (no Consul leader) must end the container."""
    cluster = cluster_factory(size=2, hooks=RedisManageHooks(), interval_scale=SCALE,
                              extra_env={"CONSUL_LEADER_TIMEOUT": "2s"}).start(start_nodes=False)
    cluster.agents.set_leader(False)
    bad_settings, no_leader = cluster.nodes
    bad_settings.start(extra_env={"REDIS_PORT": "notaport"})
    no_leader.start()
    for node, what in ((bad_settings, "preStart"), (no_leader, "onStart")):
        assert node.wait_exited(40), f"{node.name}'s container is still up after {what} failed"
        assert node.saw("exitFailed", what)
        assert "ending the container" in node.log_path.read_text(errors="replace")
        assert not node.saw("exitSuccess", "onStart")


# --- 6 --------------------------------------------------------------------------------------


def check_status(cluster: Cluster, service: str, port: int) -> Optional[str]:
    for entry in consul_instances(cluster, service):
        if entry["Service"]["Port"] == port:
            checks = [check["Status"] for check in entry["Checks"] if check["CheckID"].startswith("service:")]
            return checks[0] if checks else None
    return None


def test_containerpilot_fidelity_6_a_frozen_redis_fails_its_check_within_one_health_interval(
        cluster_factory) -> None:
    """With the default REDIS_TIMEOUT (5 s) and the health job's 4 s timeout, a health hook that
    waited on a frozen Redis would be killed before failing its check, and the TTL (25 s) would
    keep the node passing. Scale 0.4: health every 2 s, TTL 10 s."""
    env = {"SENTINEL_DOWN_AFTER": "60s"}  # no failover while the replica is frozen
    cluster = cluster_factory(size=2, hooks=RedisManageHooks(), interval_scale=0.4, extra_env=env).start()
    _, replicas = wait_for_roles(cluster, replicas=1)
    frozen = replicas[0]
    assert check_status(cluster, "redis-replica", frozen.redis_port) == "passing"
    frozen.kill_job_process("redis", signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        wait_until(lambda: check_status(cluster, "redis-replica", frozen.redis_port) == "critical", 20,
                   f"{frozen.name}'s redis-replica check goes critical", interval=0.05)
        took = time.monotonic() - stopped_at
    finally:
        frozen.kill_job_process("redis", signal.SIGCONT)
    # One interval (2 s) for the next health run, its 3 s budget, and scheduling slack.
    assert took < 6, f"the frozen Redis stayed passing for {took:.1f}s"


# --- 7 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_7_the_backup_job_at_boot_is_quiet(cluster_factory) -> None:
    """A periodic job first runs at ContainerPilot's startup, before the agent and Redis."""
    cluster = cluster_factory(size=1, hooks=RedisManageHooks(), interval_scale=SCALE).start()
    node = cluster.nodes[0]
    wait_until(lambda: node.saw("exitSuccess", "backup") or node.saw("exitFailed", "backup"), 20,
               "the backup job ran at startup")
    assert node.saw("exitSuccess", "backup")
    lines = [line for line in node.log_path.read_text(errors="replace").splitlines() if "] " in line]
    backup_lines = [line for line in lines if line.split("] ", 1)[0].endswith("[backup")]
    assert backup_lines and not [line for line in backup_lines if "ERROR" in line], backup_lines
    assert any("nothing to back up" in line for line in backup_lines), backup_lines
    assert cluster.nodes[0].config.job("backup").timeout == cluster.nodes[0].config.job("backup").when.interval


# --- 8 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_8_redis_sentinel_is_registered_where_others_reach_it(cluster_factory) -> None:
    """ContainerPilot registered a job's port at the interface it picked; behind NAT the other
    nodes reach Sentinel at REDIS_ANNOUNCE_IP:SENTINEL_ANNOUNCE_PORT, which is what Consul must
    list. The agent address comes from CONSUL_HTTP_ADDR through the json5."""
    cluster = cluster_factory(size=1, hooks=RedisManageHooks(), interval_scale=SCALE).start(start_nodes=False)
    node = cluster.nodes[0]
    announced = node.sentinel_port + 10000 if node.sentinel_port < 55000 else node.sentinel_port - 10000
    node.start(extra_env={"SENTINEL_ANNOUNCE_PORT": str(announced)})
    assert node.config.consul == node.consul_address
    instances = wait_until(lambda: cluster.passing("redis-sentinel"), 15, "redis-sentinel passes",
                           describe=cluster.describe)
    assert [(i.address, i.port) for i in instances] == [("127.0.0.1", announced)]
    assert instances[0].service_id == f"redis-sentinel-127.0.0.1-{announced}"


# --- 9 --------------------------------------------------------------------------------------


def test_containerpilot_fidelity_9_log_level_filters_the_hooks_and_json_stays_json(cluster_factory) -> None:
    """ContainerPilot re-logs job output at INFO under its own level, prefixed. LOG_LEVEL=WARN
    must keep redis-manage's WARN lines (a one-node cluster warns it cannot fail over) and
    drop its INFO ones; LOG_FORMAT=json lines reach the log as one JSON object each."""
    cluster = cluster_factory(size=1, hooks=RedisManageHooks(), interval_scale=SCALE,
                              extra_env={"LOG_LEVEL": "WARN", "LOG_FORMAT": "json"}).start()
    node = cluster.nodes[0]
    wait_for_roles(cluster, replicas=0)

    def hook_objects() -> list[dict]:
        found = []
        for line in node.log_path.read_text(errors="replace").splitlines():
            match = re.match(r"^\S+ \[(check\.)?[\w-]+\] (\{.*)$", line)
            if match:
                try:
                    found.append(json.loads(match.group(2)))
                except ValueError:
                    continue
        return found

    warnings = wait_until(lambda: [o for o in hook_objects() if o.get("hook") == "healthSentinel"
                                   and o.get("level") == "WARN"], 15, "healthSentinel's WARN line is logged")
    assert "fail over" in warnings[0]["msg"]
    assert not [o for o in hook_objects() if o.get("level") in ("INFO", "DEBUG")]


# --- 10 -------------------------------------------------------------------------------------


def test_containerpilot_fidelity_10_a_whole_cluster_stop_does_not_wait_for_an_impossible_failover(
        cluster_factory) -> None:
    """Every node stops at once: the master's preStop has asked Sentinel to fail over when its
    replicas and their sentinels go away. With no live peer left, nobody can take over: it must
    leave then, not wait out FAILOVER_WAIT_TIMEOUT (15 s here)."""
    cluster = make_cluster(cluster_factory, 3).start()
    master, replicas = wait_for_roles(cluster, replicas=2)
    wait_for_sentinels(cluster, master)
    stopping = threading.Thread(target=master.stop, kwargs={"timeout": 60}, daemon=True)
    started = time.monotonic()
    stopping.start()
    wait_until(lambda: "requesting a Sentinel failover" in master.log_path.read_text(errors="replace"), 10,
               f"{master.name}'s preStop asked for the failover", interval=0.005)
    for replica in replicas:
        replica.kill()
    stopping.join(30)
    took = time.monotonic() - started
    assert not stopping.is_alive() and master.saw("exitSuccess", "preStop")
    assert took < 8, f"the master took {took:.1f}s to stop once its peers were gone"


# --- 11 -------------------------------------------------------------------------------------

PILOT_CONFIG = """
{
  consul: "{{ .CONSUL_HTTP_ADDR }}",
  jobs: [
    { name: "preStart",
      exec: ["sh", "-c", "python3 -c 'import urllib.request; urllib.request.urlopen(\\"{{ .CONSUL_HTTP_ADDR }}/v1/status/leader\\", timeout=1)' && echo up > {{ .REDIS_RUN_DIR }}/agent-at-prestart || echo down > {{ .REDIS_RUN_DIR }}/agent-at-prestart"] },
    { name: "consul-agent", exec: ["consul", "agent"],
      when: { source: "preStart", once: "exitSuccess" },
      health: { exec: ["consul", "join"], interval: 1, ttl: 2 } },
    { name: "server", exec: ["sleep", "600"],
      when: { source: "consul-agent", once: "healthy" },
      restarts: "unlimited" },
    { name: "stubborn", exec: ["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
      when: { source: "consul-agent", once: "healthy" },
      stopTimeout: "30s" }
  ]
}
"""


def test_containerpilot_fidelity_11_the_harness_plays_containerpilot_as_it_is(cluster_factory, tmp_path) -> None:
    """The agent starts after preStart; a job restarts its exec within ~10 ms; shutdown sends
    SIGTERM without waiting and SIGKILLs what is left once every job is done and the global
    stopTimeout (5 s, 1 s at this scale) has passed, whatever a job's stopTimeout says."""
    config = tmp_path / "pilot.json5"
    config.write_text(PILOT_CONFIG)
    cluster = cluster_factory(size=1, hooks=StubHooks(), interval_scale=SCALE, config_path=config).start()
    node = cluster.nodes[0]
    wait_until(lambda: node.job_pid("server") and node.job_pid("stubborn"), 15, "the jobs run")
    assert (node.run_dir / "agent-at-prestart").read_text().strip() == "down"

    old = node.kill_job_process("server", signal.SIGKILL)
    wait_until(lambda: node.job_pid("server") not in (None, old), 5, "the server job restarted")
    log = node.log_path.read_text(errors="replace")
    stamps = re.findall(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) \[containerpilot\] server (?:pid \d+ exited|started pid)",
                        log, re.MULTILINE)
    times = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in stamps]
    assert len(times) >= 3 and times[2] - times[1] < 0.05, f"restart took {times[2] - times[1]:.3f}s: {stamps}"

    stubborn = node.job_pid("stubborn")
    started = time.monotonic()
    node.stop(timeout=20, stop_agent=False)
    took = time.monotonic() - started
    assert stubborn is not None and not process_alive(stubborn)
    assert 1.0 <= took < 5, f"stop took {took:.1f}s (stubborn's stopTimeout is 30 s, ContainerPilot's is 1 s here)"
