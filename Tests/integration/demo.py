"""`make demo`: a redis-manage cluster on 127.0.0.1 loses its master and heals, no Docker needed.

Runs the real hooks (.build/debug/redis-manage, so `swift build` first) under the harness's
ContainerPilot stand-in, over real `consul agent`s when `consul` is on PATH and the Consul
double otherwise. Once the cluster has formed it shows `redis-manage status`, hands the master role over with
`redis-manage switchover --yes` (a planned handover under the operator's control), then kills
the master's whole node (kill -9 of everything the node runs: no preStop, as when a host dies),
prints what Consul and each surviving Sentinel name as master, with the elapsed time, until
they agree on a new one, and shows `redis-manage status` again.
Everything it started is stopped and its directory removed at the end, also on Ctrl-C or
a failure.

    python3 Tests/integration/demo.py [--nodes N] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Optional

import resp
from harness import Cluster, HarnessError, Node, RedisManageHooks, WaitTimeout, wait_until

# Health and the reconfig script every second instead of every 5 s; Sentinel keeps its
# default down-after (5 s), so the failover takes the time it takes in production.
INTERVAL_SCALE = 0.2
# A node killed with its agent still up (real Consul agents cannot be killed one by one
# here) leaves its `redis` registration passing until this TTL runs out.
DEMO_ENV = {"HEALTH_TTL": "5s", "LOG_LEVEL": "DEBUG"}
FORM_TIMEOUT = 90.0
FAILOVER_TIMEOUT = 90.0
STOP_TIMEOUT = 45.0
POLL = 0.25


class DemoFailed(Exception):
    """The cluster did not do what the demo shows; the message says what it saw."""


class Clock:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.start:5.1f}s"


def say(line: str = "") -> None:
    print(line, flush=True)


def node_name(cluster: Cluster, port: Optional[int]) -> str:
    if port is None:
        return "-"
    try:
        return cluster.node_by_redis_port(port).name
    except KeyError:
        return f"?:{port}"


def consul_masters(cluster: Cluster) -> list[str]:
    """Nodes Consul lists as passing `redis` (sorted), or a one-word reason it did not answer."""
    try:
        return sorted(node_name(cluster, instance.port) for instance in cluster.passing("redis"))
    except HarnessError:
        return ["(no agent answers)"]


def sentinel_masters(cluster: Cluster) -> dict[str, str]:
    """Master each running node's Sentinel names, by node."""
    return {name: node_name(cluster, address[1] if address else None)
            for name, address in cluster.sentinel_masters().items()}


def formed(cluster: Cluster, size: int) -> Optional[Node]:
    """The master once Consul and every Sentinel agree on it and see all the others."""
    masters, replicas = cluster.passing("redis"), cluster.passing("redis-replica")
    if len(masters) != 1 or len(replicas) != size - 1:
        return None
    master = cluster.node_by_redis_port(masters[0].port)
    for view in cluster.sentinel_views().values():
        if (view.master != ("127.0.0.1", master.redis_port) or view.replicas != size - 1
                or view.other_sentinels != size - 1):
            return None
    return master


def show_cluster(cluster: Cluster) -> None:
    say(f"  {'node':<6} {'redis':<16} {'sentinel':<16} role")
    for node in cluster.running_nodes():
        say(f"  {node.name:<6} 127.0.0.1:{node.redis_port:<6} 127.0.0.1:{node.sentinel_port:<6} {node.role()}")
    views = sentinel_masters(cluster)
    say(f"  Consul's passing `redis`: {', '.join(consul_masters(cluster))}")
    say("  each Sentinel's master:   " + "  ".join(f"{name}: {master}" for name, master in views.items()))


def operator(node: Node, *args: str) -> int:
    """Runs `redis-manage ARGS` as an operator would inside `node`'s container, printing its
    output indented; returns its exit status."""
    environment = node.env()
    environment["LOG_LEVEL"] = "ERROR"
    say(f"  $ redis-manage {' '.join(args)}    (in {node.name})")
    done = subprocess.run([str(node.cluster.hook_bin / "redis-manage"), *args], env=environment, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    for line in (done.stdout + done.stderr).rstrip().splitlines():
        say(f"    {line}")
    say(f"  (exit status {done.returncode})")
    return done.returncode


def operator_quiet(node: Node, *args: str) -> int:
    environment = node.env()
    environment["LOG_LEVEL"] = "ERROR"
    return subprocess.run([str(node.cluster.hook_bin / "redis-manage"), *args], env=environment, capture_output=True,
                          timeout=60, stdin=subprocess.DEVNULL).returncode


def watch_failover(cluster: Cluster, old: Node, clock: Clock) -> Node:
    """Prints each change of what Consul and the sentinels name, until they agree on a new master."""
    deadline = time.monotonic() + FAILOVER_TIMEOUT
    say(f"  {'elapsed':>7}  {'Consul passing redis':<22} sentinels")
    last = None
    while True:
        consul = consul_masters(cluster)
        sentinels = sentinel_masters(cluster)
        state = (tuple(consul), tuple(sorted(sentinels.items())))
        if state != last:
            say(f"  {clock.elapsed():>7}  {', '.join(consul) or '(none)':<22} "
                + "  ".join(f"{name}: {master}" for name, master in sorted(sentinels.items())))
            last = state
        named = set(sentinels.values())
        if len(consul) == 1 and named == {consul[0]} and consul[0] != old.name:
            return cluster.node(consul[0])
        if time.monotonic() >= deadline:
            raise DemoFailed(f"no agreement on a new master {FAILOVER_TIMEOUT:g}s after killing "
                             f"{old.name}: Consul {consul}, sentinels {sentinels}")
        time.sleep(POLL)


def run(cluster: Cluster, size: int) -> None:
    clock = Clock()
    say(f"starting {', '.join(f'node{i}' for i in range(1, size + 1))} "
        f"(onStart, then redis-server and redis-sentinel; health every {5 * INTERVAL_SCALE:g}s)")
    cluster.start()
    master = wait_until(lambda: formed(cluster, size), FORM_TIMEOUT,
                        "one master in Consul and in every Sentinel, with all replicas and sentinels",
                        interval=POLL, describe=cluster.describe)
    say(f"[{clock.elapsed()}] cluster formed")
    show_cluster(cluster)

    key, value = "demo:key", uuid.uuid4().hex[:12]
    cluster.write(key, value)
    others = [node for node in cluster.running_nodes() if node is not master]
    for replica in others:
        wait_until(lambda: cluster.read(replica, key) == value, 10, f"{replica.name} has {key}",
                   interval=POLL)
    say(f"  wrote {key}={value} on {master.name}; replicated to {', '.join(n.name for n in others)}")

    say()
    say("the operator's view, from any node:")
    wait_until(lambda: operator_quiet(others[0], "status") == 0, 30, "status reports the cluster healthy", interval=POLL)
    operator(others[0], "status")
    say()
    say(f"planned handover: redis-manage switchover (writes held until a replica has them all)")
    if operator(others[0], "switchover", "--yes") != 0:
        raise DemoFailed("switchover did not succeed")
    master = cluster.consul_master()
    say(f"  {master.name} is the master now")

    say()
    say(f"killing {master.name}: kill -9 of its redis-server, redis-sentinel and hooks"
        f"{' and its Consul agent' if cluster.agents.kind == 'double' else ''}; no preStop")
    clock = Clock()
    master.kill()
    new = watch_failover(cluster, master, clock)
    say(f"failover done in {clock.elapsed().strip()}: {new.name} is the master in Consul and in every "
        "surviving Sentinel")
    kept = cluster.read(new, key)
    if kept != value:
        raise DemoFailed(f"{key} on the new master {new.name} is {kept!r}, not {value!r}")
    roles = ", ".join(f"{node.name} {node.role()}" for node in cluster.running_nodes())
    say(f"  {key} on {new.name}: {kept} (kept); roles now: {roles}")
    say()
    say(f"the operator's view after the failover ({master.name} is gone, so status says degraded, exit 1):")
    operator(new, "status")

    say()
    survivors = [node.name for node in cluster.running_nodes()]
    say(f"stopping {', '.join(survivors)} as `docker compose down` would (preStop hands over first)")
    clock = Clock()
    cluster.stop(timeout=STOP_TIMEOUT)
    for name in survivors:
        if not cluster.node(name).saw("exitSuccess", "preStop"):
            raise DemoFailed(f"preStop did not succeed on {name}")
    say(f"[{clock.elapsed()}] stopped; preStop succeeded on {', '.join(survivors)}")


def print_logs(cluster: Cluster, lines: int = 40) -> None:
    for path in cluster.log_paths():
        try:
            tail = path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            continue
        say(f"===== {path} (last {len(tail)} lines)")
        for line in tail:
            say(line)


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM cleans up as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=3, help="cluster size, at least 3 (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) at the end")
    args = parser.parse_args(argv)
    if args.nodes < 3:
        parser.error("a failover needs a majority of all sentinels, so at least 3 nodes")
    for binary in ("redis-server", "redis-sentinel"):
        if shutil.which(binary) is None:
            say(f"demo: {binary} is not on PATH (Debian: apt-get install redis-server redis-sentinel)")
            return 2

    # Ctrl-C even when started from a shell that ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="redis-manage-demo-"))
    status = 1
    cluster: Optional[Cluster] = None
    try:
        cluster = Cluster(workdir, size=args.nodes, hooks=RedisManageHooks(), interval_scale=INTERVAL_SCALE,
                          extra_env=DEMO_ENV)
        backend = "real consul agents" if shutil.which("consul") else "the Consul double (no consul on PATH)"
        say(f"redis-manage demo: {args.nodes} nodes on 127.0.0.1, real hooks "
            f"({cluster.hook_bin / 'redis-manage'}), {backend}")
        say(f"work dir {workdir} ({'kept' if args.keep else 'removed at the end'})")
        say()
        run(cluster, args.nodes)
        status = 0
    except KeyboardInterrupt:
        say("\ninterrupted: cleaning up")
        # Ctrl-C reaches the whole process group, the Consul double too: a node still
        # stopping then fails to reach it, which is expected here and worth one line.
        threading.excepthook = lambda hook: say(f"  ({hook.thread.name if hook.thread else 'thread'}: "
                                                f"{hook.exc_type.__name__}: {hook.exc_value})")
        status = 130
    except (DemoFailed, WaitTimeout, HarnessError, resp.RedisConnectionError, resp.RedisReplyError) as error:
        say(f"\ndemo failed: {error}")
        if cluster is not None:
            print_logs(cluster)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if cluster is not None:
            cluster.teardown()
            try:
                wait_until(lambda: not cluster.leftover_processes(), 10, "every demo process is gone")
                say("cleaned up: no process of the demo is left")
            except WaitTimeout as error:
                say(f"cleanup: {error}")
                status = status or 1
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
