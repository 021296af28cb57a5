"""Hostile peers (issue 12): a node treats what Consul and the sentinels tell it as untrusted.

A rogue sentinel (a small RESP server started here) and rogue Consul registrations name
addresses built to inject directives into redis.conf and sentinel.conf, answer with a
huge bulk string or an endless array, or name a port out of range. The node keeps
serving, writes no injected directive, never sends them REDIS_PASSWORD, and logs one clear
error per refused address. A cluster with a password also keeps its config files
unreadable to others after Sentinel rewrites them.

Runs the REAL hooks over the Consul double (the rogue agent needs it); `swift build` first.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import pytest

from consul_http import ConsulHTTP
from harness import Cluster, Node, RedisManageHooks, free_port, wait_until
from sampling import passing_ports

SCALE = 0.2
PASSWORD = "hostile-Pw-4242"
INJECTED_HOST = "10.9.9.9 6379\ndir /etc/cron.d\ndbfilename pwn\n#"
INJECTED_SCRIPT = "10.9.9.9\nsentinel notification-script mymaster /tmp/pwn\n#"


def node_env() -> dict[str, str]:
    return {"SENTINEL_DOWN_AFTER": "1000ms", "REDIS_TIMEOUT": "1s", "FAILOVER_WAIT_TIMEOUT": "15s",
            "MASTER_WAIT_TIMEOUT": "2s", "REDIS_PASSWORD": PASSWORD}


def make_cluster(cluster_factory: Callable[..., Cluster], size: int) -> Cluster:
    return cluster_factory(size=size, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=node_env())


def bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


class RogueSentinel:
    """A RESP server that answers every command as a sentinel would not.

    mode: "inject" names INJECTED_HOST as the master; "port" names a port out of range;
    "huge" announces a 512 MiB bulk string and sends it; "endless" sends an array that
    never ends. Every command received is recorded.
    """

    def __init__(self, mode: str, port: int) -> None:
        self.mode = mode
        self.port = port
        self.received: list[list[bytes]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(10)
        buffer = b""
        try:
            while not self._stop.is_set():
                command, buffer = self._read_command(connection, buffer)
                if command is None:
                    return
                with self._lock:
                    self.received.append(command)
                if command[0].upper() == b"PING":
                    connection.sendall(b"+PONG\r\n")
                elif command[0].upper() == b"SENTINEL":
                    self._reply(connection)
                else:
                    connection.sendall(b"-ERR unknown command\r\n")
        except OSError:
            return
        finally:
            connection.close()

    def _reply(self, connection: socket.socket) -> None:
        if self.mode == "inject":
            connection.sendall(b"*2\r\n" + bulk(INJECTED_HOST.encode()) + bulk(b"6379"))
        elif self.mode == "port":
            connection.sendall(b"*2\r\n" + bulk(b"127.0.0.1") + bulk(b"99999"))
        elif self.mode == "huge":
            connection.sendall(b"$536870912\r\n")
            piece = b"x" * 65536
            for _ in range(8192):
                connection.sendall(piece)
        elif self.mode == "endless":
            connection.sendall(b"*9223372036854775807\r\n")
            piece = b":1\r\n" * 16384
            while not self._stop.is_set():
                connection.sendall(piece)

    @staticmethod
    def _read_command(connection: socket.socket, buffer: bytes) -> tuple[Optional[list[bytes]], bytes]:
        def fill(data: bytes) -> bytes:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            return data + chunk

        try:
            while b"\r\n" not in buffer:
                buffer = fill(buffer)
            header, buffer = buffer.split(b"\r\n", 1)
            count = int(header[1:])
            words = []
            for _ in range(count):
                while b"\r\n" not in buffer:
                    buffer = fill(buffer)
                length_line, buffer = buffer.split(b"\r\n", 1)
                length = int(length_line[1:])
                while len(buffer) < length + 2:
                    buffer = fill(buffer)
                words.append(buffer[:length])
                buffer = buffer[length + 2:]
            return words, buffer
        except (ConnectionError, ValueError):
            return None, buffer


def directives(path: Path) -> list[list[str]]:
    """The file's directives as Redis splits them (enough of sdssplitargs for these files)."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', line)
        found.append([quoted.encode().decode("unicode_escape") if quoted else plain for quoted, plain in words])
    return found


def hook_lines(node: Node, hook: str) -> list[str]:
    return [line for line in node.log_path.read_text(errors="replace").splitlines() if f"[{hook}]" in line]


def wait_for_master(cluster: Cluster, node: Node) -> None:
    wait_until(lambda: passing_ports(cluster, "redis") == [node.redis_port], 40,
               f"Consul lists {node.name} as the only passing redis", describe=cluster.describe)


def test_a_node_refuses_what_rogue_sentinels_and_registrations_name_and_keeps_serving(cluster_factory) -> None:
    cluster = make_cluster(cluster_factory, 2).start(start_nodes=False)
    first, second = cluster.nodes
    first.start()
    wait_for_master(cluster, first)

    # A stranger joins the catalog with its own agent: it registers a passing
    # redis-sentinel per rogue behaviour, and a redis master and redis-replica whose
    # addresses carry directives.
    rogue_port = cluster.agents.add_agent("rogue")
    rogue_agent = ConsulHTTP(f"http://127.0.0.1:{rogue_port}")
    taken: set[int] = {node.redis_port for node in cluster.nodes} | {node.sentinel_port for node in cluster.nodes}
    rogues = {mode: RogueSentinel(mode, free_port(taken)) for mode in ("inject", "port", "huge", "endless")}
    try:
        for mode, rogue in rogues.items():
            rogue_agent.register_ttl_service(f"rogue-{mode}", "redis-sentinel", rogue.port, "127.0.0.1",
                                             ttl="1h", status="passing")
        rogue_agent.register_ttl_service("redis-evil", "redis", 6379, INJECTED_HOST, ttl="1h", status="passing")
        rogue_agent.register_ttl_service("replica-evil", "redis-replica", 6380, INJECTED_SCRIPT, ttl="1h",
                                         status="passing")
        wait_until(lambda: len(first.consul().passing("redis-sentinel")) == 5, 10,
                   "Consul lists the four rogue sentinels as passing")

        started = time.monotonic()
        second.start()
        wait_until(lambda: second.saw("exitSuccess", "onStart"), 60,
                   f"{second.name}'s onStart finishes despite the rogues", describe=cluster.describe)
        on_start_seconds = time.monotonic() - started
        wait_until(lambda: second.redis_port in passing_ports(cluster, "redis-replica"), 30,
                   f"{second.name} serves as a passing replica", describe=cluster.describe)
        # The first node, the master, keeps serving too while its health sees the rogues.
        assert first.redis_port in passing_ports(cluster, "redis")
        assert second.redis_port not in passing_ports(cluster, "redis")

        redis_conf = directives(second.etc_dir / "redis.conf")
        assert ["replicaof", "127.0.0.1", str(first.redis_port)] in redis_conf, redis_conf
        assert [d for d in redis_conf if d[0] == "dir"] == [["dir", str(second.data_dir)]], redis_conf
        assert [d for d in redis_conf if d[0] == "dbfilename"] == [["dbfilename", "dump.rdb"]], redis_conf
        sentinel_conf = directives(second.etc_dir / "sentinel.conf")
        assert not [d for d in sentinel_conf if "notification-script" in d or "10.9.9.9" in " ".join(d)], sentinel_conf
        for path in (second.etc_dir / "redis.conf", second.etc_dir / "sentinel.conf"):
            text = path.read_text(errors="replace")
            assert "pwn" not in text and "/etc/cron.d" not in text, f"{path}:\n{text}"

        refused = [line for line in hook_lines(second, "onStart") if "names an address that is not one" in line]
        # One clear line per rogue that named an address, however many times onStart looked.
        assert len(refused) == 4, "\n".join(refused)
        assert sum('"redis-evil"' in line for line in refused) == 1
        assert sum('"replica-evil"' in line for line in refused) == 1
        assert sum(f"127.0.0.1:{rogues['inject'].port}" in line for line in refused) == 1
        assert sum(f"127.0.0.1:{rogues['port'].port}" in line for line in refused) == 1
        assert all(r"\x0A" in line or "99999" in line for line in refused), "\n".join(refused)
        too_large = [line for line in hook_lines(second, "onStart")
                     if "ERROR" in line and "answered with what no sentinel sends" in line and "exceeds the limit" in line]
        assert len(too_large) == 2, "the huge and the endless answers are each refused once, at their limit:\n" + "\n".join(too_large)
        assert on_start_seconds < 30, f"onStart took {on_start_seconds:.1f}s"

        for mode, rogue in rogues.items():
            assert rogue.connections > 0, f"the {mode} rogue was never asked"
            sent = [word for command in rogue.received for word in command]
            assert not any(word.upper() == b"AUTH" for word in sent), f"AUTH sent to the {mode} rogue: {rogue.received}"
            assert not any(PASSWORD.encode() in word for word in sent), f"the password reached the {mode} rogue"
    finally:
        for rogue in rogues.values():
            rogue.close()


def private(path: Path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_a_password_cluster_hands_over_and_keeps_its_config_files_private(cluster_factory) -> None:
    """Findings 2 and 11. With REDIS_PASSWORD set, preStop hands the master role over (it
    sends the password only to the replica it knew), and Sentinel's CONFIG REWRITE, which
    made sentinel.conf (auth-pass) and redis.conf (masterauth) 0644, leaves them 0600: on
    a failover every Sentinel rewrites its file, and the promoted and reconfigured Redis
    theirs."""
    cluster = make_cluster(cluster_factory, 3).start()
    wait_until(lambda: len(passing_ports(cluster, "redis")) == 1 and len(passing_ports(cluster, "redis-replica")) == 2,
               60, "one passing redis and two passing redis-replica", describe=cluster.describe)
    old = cluster.node_by_redis_port(passing_ports(cluster, "redis")[0])
    wait_until(lambda: all(view.replicas == 2 and view.other_sentinels == 2 for view in cluster.sentinel_views().values()),
               30, "every sentinel knows the two replicas and the two other sentinels", describe=cluster.describe)

    old.stop(timeout=60)
    assert old.saw("exitSuccess", "preStop"), "preStop failed"
    handover = hook_lines(old, "preStop")
    assert any("handover done" in line for line in handover), "\n".join(handover)
    assert not any("not sending it REDIS_PASSWORD" in line for line in handover), "\n".join(handover)
    remaining = [node for node in cluster.nodes if node is not old]
    wait_until(lambda: len(passing_ports(cluster, "redis")) == 1 and passing_ports(cluster, "redis")[0] != old.redis_port,
               30, "a remaining node passes as redis", describe=cluster.describe)

    files = [node.etc_dir / name for node in remaining for name in ("redis.conf", "sentinel.conf")]
    wait_until(lambda: all("CONFIG REWRITE" in path.read_text(errors="replace") for path in files), 30,
               "every remaining redis.conf and sentinel.conf was rewritten by Redis or Sentinel",
               describe=lambda: "\n".join(f"{p}: {'rewritten' if 'CONFIG REWRITE' in p.read_text() else 'ours'}" for p in files))
    files.append(old.etc_dir / "sentinel.conf")
    modes = {str(path): oct(stat.S_IMODE(os.stat(path).st_mode)) for path in files}
    assert all(private(path) for path in files), modes
    for node in remaining:
        text = (node.etc_dir / "sentinel.conf").read_text()
        assert f"auth-pass mymaster {PASSWORD}" in text, "Sentinel wrote the password back unquoted and it still reads"
