"""Operator commands (issue 16): `redis-manage status` and `redis-manage switchover` with the
REAL hooks on a 3-node cluster of real redis-server and redis-sentinel over the Consul double.

`status` is read healthy, then with a replica's Redis frozen (SIGSTOP: connections hang, so the
time bound is what is tested), a sentinel frozen, and the node's Consul agent down.
`switchover` runs with a writer counting acknowledged writes (none may be lost), is refused
for each documented reason, and (slow: Sentinel reads replica priorities every 10 s) hands
over to a named replica. Figures are printed (run with -s).
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import time
from typing import Callable, Optional

import pytest

import resp

from harness import Cluster, Node, RedisManageHooks, wait_until
from sampling import passing_ports
from test_lifecycle import Writer, wait_for_roles, wait_for_sentinels

SCALE = 0.2
# Short bounds, so a frozen node costs the test little and the bound is checked.
TIMEOUTS = {"REDIS_TIMEOUT": "1s", "CONSUL_TIMEOUT": "1s"}
STATUS_BOUND = 2.0  # REDIS_TIMEOUT + CONSUL_TIMEOUT
# A process start and a debug build's own start-up on a loaded 2-core machine.
STARTUP_ALLOWANCE = 1.5


def make_cluster(cluster_factory: Callable[..., Cluster]) -> Cluster:
    # The switchover holds writes at most half of down-after (Sentinel's hello PUBLISH waits
    # behind the pause): 3 s leaves the replicas' once-a-second acknowledgement room.
    env = {"SENTINEL_DOWN_AFTER": "3000ms", "FAILOVER_WAIT_TIMEOUT": "20s", **TIMEOUTS}
    return cluster_factory(size=3, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=env)


def redis_manage(node: Node, *args: str, env: Optional[dict[str, str]] = None, timeout: float = 60,
                 stdin: Optional[str] = None) -> tuple[subprocess.CompletedProcess, float]:
    environment = node.env()
    environment.update({"LOG_LEVEL": "ERROR", **(env or {})})
    started = time.monotonic()
    done = subprocess.run([str(node.cluster.hook_bin / "redis-manage"), *args], env=environment, capture_output=True,
                          text=True, timeout=timeout, input=stdin if stdin is not None else "")
    return done, time.monotonic() - started


def on_terminal(node: Node, *args: str, env: Optional[dict[str, str]] = None, answer: bytes = b"") -> tuple[int, str]:
    """Runs redis-manage with a pseudo-terminal as standard input and output, as an operator
    at a shell would, typing `answer`; returns the exit status and what the terminal showed."""
    environment = node.env()
    environment.update({"LOG_LEVEL": "ERROR", **(env or {})})
    controller, terminal = pty.openpty()
    process = subprocess.Popen([str(node.cluster.hook_bin / "redis-manage"), *args], env=environment,
                               stdin=terminal, stdout=terminal, stderr=subprocess.PIPE)
    os.close(terminal)
    if answer:
        os.write(controller, answer)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO once the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(30), shown.decode(errors="replace")


def status_json(node: Node, env: Optional[dict[str, str]] = None) -> tuple[int, dict, float]:
    done, took = redis_manage(node, "status", "--json", env=env)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout), took


def row(document: dict, node: Node) -> dict:
    address = f"127.0.0.1:{node.redis_port}"
    return next(entry for entry in document["nodes"] if entry["address"] == address)


def sentinel_row(document: dict, node: Node) -> dict:
    address = f"127.0.0.1:{node.sentinel_port}"
    return next(entry for entry in document["sentinels"] if entry["address"] == address)


def silent_for(master: Node, replica: Node) -> int:
    """Seconds since `replica` last acknowledged, as the master's INFO says."""
    fields = resp.info(master.redis_port)
    for key, value in fields.items():
        if key.startswith("slave") and f"port={replica.redis_port}," in value:
            return int(dict(pair.split("=", 1) for pair in value.split(","))["lag"])
    return 0


def formed(cluster_factory: Callable[..., Cluster]) -> tuple[Cluster, Node, list[Node]]:
    cluster = make_cluster(cluster_factory).start()
    master, replicas = wait_for_roles(cluster, replicas=2)
    wait_for_sentinels(cluster, master)
    return cluster, master, replicas


def wait_healthy(node: Node, timeout: float = 30) -> dict:
    return wait_until(lambda: (lambda result: result[0] == 0 and result[1])(status_json(node)), timeout,
                      "status reports the cluster healthy")


def test_status_then_switchover_with_a_writer_on_one_cluster(cluster_factory) -> None:
    """One cluster for both, to keep `make test` short: status in every state, then the
    switchover's refusals and a switchover under writes, then status again."""
    cluster, master, replicas = formed(cluster_factory)
    check_status(cluster, master, replicas)
    check_switchover(cluster, master, replicas)


def check_status(cluster: Cluster, master: Node, replicas: list[Node]) -> None:
    replica, other = replicas
    document = wait_healthy(master)
    assert document["healthy"] is True and document["cluster"]["problems"] == []
    assert document["cluster"]["master"] == f"127.0.0.1:{master.redis_port}"
    assert document["cluster"]["sentinels_reachable"] == 3 and document["cluster"]["sentinels_known"] == 3
    assert document["cluster"]["failover_possible"] is True and document["cluster"]["quorum"] == 2
    assert row(document, master)["role"] == "master" and row(document, master)["consul"] == ["redis: passing"]
    for node in (replica, other):
        entry = row(document, node)
        assert (entry["role"], entry["sentinel"], entry["link"], entry["consul"]) == \
            ("replica", "replica", "up", ["redis-replica: passing"]), entry
        assert entry["lag_bytes"] is not None and entry["lag_bytes"] >= 0
    table, took = redis_manage(replica, "status")
    assert table.returncode == 0, table.stdout + table.stderr
    assert "status: healthy" in table.stdout and "\x1b[" not in table.stdout, table.stdout
    assert f"master:     127.0.0.1:{master.redis_port}" in table.stdout
    code, shown = on_terminal(replica, "status")
    assert code == 0 and "\x1b[32mhealthy\x1b[0m" in shown, shown
    code, shown = on_terminal(replica, "status", env={"NO_COLOR": "1"})
    assert code == 0 and "status: healthy" in shown and "\x1b[" not in shown, shown
    print(f"\nstatus, healthy 3-node cluster: {took:.2f}s")

    # A frozen replica: its connections open but never answer.
    replica.kill_job_process("redis", signal.SIGSTOP)
    try:
        code, document, took = status_json(master)
        assert took < STATUS_BOUND + STARTUP_ALLOWANCE, f"status took {took:.2f}s with a frozen replica"
        assert code == 1 and document["healthy"] is False
        assert row(document, replica)["role"] == "no answer"
        assert any("does not answer" in problem for problem in row(document, replica)["problems"])
        assert row(document, other)["problems"] == [] and row(document, master)["role"] == "master"
        print(f"status, one replica frozen: {took:.2f}s (bound {STATUS_BOUND}s + start-up)")
    finally:
        replica.kill_job_process("redis", signal.SIGCONT)
    wait_healthy(master)

    other.kill_job_process("redis-sentinel", signal.SIGSTOP)
    try:
        code, document, took = status_json(master)
        assert took < STATUS_BOUND + STARTUP_ALLOWANCE, f"status took {took:.2f}s with a frozen sentinel"
        assert code == 1 and sentinel_row(document, other)["reachable"] is False
        assert document["cluster"]["sentinels_reachable"] == 2, document["cluster"]
        print(f"status, one sentinel frozen: {took:.2f}s")
    finally:
        other.kill_job_process("redis-sentinel", signal.SIGCONT)
    wait_healthy(master)

    cluster.agents.kill_agent(replica.name)
    replica.agent_down = True
    try:
        code, document, took = status_json(replica)
        assert code == 1 and document["cluster"]["consul"].startswith("unreachable"), document["cluster"]
        assert any(problem.startswith("Consul unreachable") for problem in document["cluster"]["problems"])
        # Sentinel still names every node, so the Redis part is all there.
        assert document["cluster"]["master"] == f"127.0.0.1:{master.redis_port}"
        assert {entry["address"] for entry in document["nodes"]} == {f"127.0.0.1:{n.redis_port}" for n in cluster.nodes}
        assert row(document, other)["role"] == "replica" and row(document, other)["link"] == "up"
        print(f"status, Consul agent down: {took:.2f}s")
    finally:
        cluster.agents.revive_agent(replica.name)
        replica.agent_down = False

    usage, _ = redis_manage(master, "status", "--yes")
    assert usage.returncode == 2 and "does not take the option --yes" in usage.stderr


def check_switchover(cluster: Cluster, master: Node, replicas: list[Node]) -> None:
    """Refused for each reason, then done under writes with none lost."""
    wait_healthy(master)

    # Refusals first: each leaves the cluster as it was.
    cases = [
        (("switchover", "--yes", "--to", f"127.0.0.1:{master.redis_port}"), "is already the master"),
        (("switchover", "--yes", "--to", "127.0.0.1:1"), "is not a replica of the master"),
        (("switchover",), "standard input is not a terminal"),
    ]
    code, shown = on_terminal(replicas[0], "switchover", answer=b"n\n")
    assert code == 3 and f"Switch the master 127.0.0.1:{master.redis_port} over to the replica Sentinel picks? [y/N]" in shown \
        and "not confirmed; nothing was changed" in shown, shown
    for args, reason in cases:
        refused, _ = redis_manage(replicas[0], *args)
        assert refused.returncode == 3 and reason in refused.stdout, (args, refused.stdout + refused.stderr)
    bad, _ = redis_manage(master, "switchover", "--to", "not an address")
    assert bad.returncode == 2 and "--to" in bad.stderr
    replicas[1].kill_job_process("redis", signal.SIGSTOP)
    try:
        wait_until(lambda: silent_for(master, replicas[1]) > 2, 10, f"{replicas[1].name} stops acknowledging")
        down, _ = redis_manage(master, "switchover", "--yes", "--to", f"127.0.0.1:{replicas[1].redis_port}")
        assert down.returncode == 3 and "not a healthy replica" in down.stdout, down.stdout + down.stderr
    finally:
        replicas[1].kill_job_process("redis", signal.SIGCONT)
    # No majority of sentinels: two of three frozen.
    for node in replicas:
        node.kill_job_process("redis-sentinel", signal.SIGSTOP)
    try:
        alone, took = redis_manage(master, "switchover", "--yes")
        assert alone.returncode == 3 and "only 1 of 3 sentinels answer" in alone.stdout, alone.stdout + alone.stderr
        assert took < 5, f"the refusal took {took:.1f}s"
    finally:
        for node in replicas:
            node.kill_job_process("redis-sentinel", signal.SIGCONT)
    wait_until(lambda: sorted(passing_ports(cluster, "redis-replica")) == sorted(r.redis_port for r in replicas), 20,
               "both replicas pass again")
    wait_until(lambda: silent_for(master, replicas[1]) <= 1, 10, f"{replicas[1].name} acknowledges again")
    assert cluster.consul_master() is master

    with Writer(cluster) as writer:
        wait_until(lambda: len(writer.acknowledged) >= 200, 10, "the writer got 200 writes acknowledged")
        done, took = redis_manage(replicas[0], "switchover", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
        new = cluster.consul_master()
        acknowledged_before = len(writer.acknowledged)
        wait_until(lambda: len(writer.acknowledged) > acknowledged_before + 50, 10,
                   "writes are acknowledged by the new master")
    assert new is not master and new.role() == "master" and master.role() == "slave", cluster.describe()
    missing = [key for key in writer.acknowledged if new.redis("EXISTS", key) != 1]
    assert not missing, f"{len(missing)} of {len(writer.acknowledged)} acknowledged writes lost, e.g. {missing[:5]}"
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("switchover done:"), done.stdout
    assert "[" in done.stdout.splitlines()[0], done.stdout  # progress lines carry the elapsed time
    print("\n" + done.stdout)
    print(f"switchover with a writer: {summary} (command {took:.2f}s); {len(writer.acknowledged)} writes "
          f"acknowledged, {writer.refused} refused, 0 lost")
    document = wait_healthy(new)
    assert document["cluster"]["master"] == f"127.0.0.1:{new.redis_port}"


@pytest.mark.slow
def test_switchover_to_a_named_replica_and_priorities_restored(cluster_factory) -> None:
    cluster, master, replicas = formed(cluster_factory)
    wait_healthy(master)
    target, other = replicas
    with Writer(cluster) as writer:
        wait_until(lambda: len(writer.acknowledged) >= 100, 10, "the writer got 100 writes acknowledged")
        done, took = redis_manage(master, "switchover", "--yes", "--to", f"127.0.0.1:{target.redis_port}")
        assert done.returncode == 0, done.stdout + done.stderr
    assert cluster.consul_master() is target and target.role() == "master", cluster.describe()
    missing = [key for key in writer.acknowledged if target.redis("EXISTS", key) != 1]
    assert not missing, f"{len(missing)} acknowledged writes lost"
    assert other.redis("CONFIG", "GET", "replica-priority") == [b"replica-priority", b"100"]
    print(f"\nswitchover --to: {done.stdout.strip().splitlines()[-1]} (command {took:.2f}s); "
          f"{len(writer.acknowledged)} acknowledged, 0 lost")
