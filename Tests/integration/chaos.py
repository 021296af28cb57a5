"""What the chaos scenarios watch and count: a sampler of the whole cluster every 50 ms
(Consul's passing `redis`, each sentinel's master, which nodes take writes), writers that
count acknowledged writes, and the figures drawn from both for RELIABILITY.md.

The sampler reaches every node from inside that node's own network namespace, so a cut-off
node is still seen: its sentinel's view and whether it takes writes are what a client on
its side of the cut would meet.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import resp
from consul_http import ConsulHTTPError
from harness import MASTER_NAME, Cluster, HarnessError
from netns import Connector

PERIOD = 0.05
PROBE_TIMEOUT = 0.3
WRITE_TIMEOUT = 0.5


@dataclass(frozen=True)
class Observation:
    at: float
    # Addresses Consul lists as passing `redis`, or None when no agent answered.
    consul_masters: Optional[tuple[str, ...]]
    # Per node: the master its sentinel names (None: no answer).
    sentinel_masters: dict[str, Optional[str]]
    # Per node: "ok" (took a write), "readonly", "noreplicas", "down", or another error word.
    writes: dict[str, str]

    def writable(self) -> list[str]:
        return sorted(node for node, state in self.writes.items() if state == "ok")


def _write_state(error: Exception) -> str:
    text = str(error)
    for word in ("READONLY", "NOREPLICAS", "LOADING", "MASTERDOWN"):
        if word in text:
            return word.lower()
    return "down"


class ClusterSampler:
    """Every PERIOD: Consul from the root namespace, each node's Redis and Sentinel from its
    own namespace, in one thread per source so a node that does not answer delays no other."""

    def __init__(self, cluster: Cluster) -> None:
        if cluster.network is None:
            raise HarnessError("the cluster sampler needs a cluster in a network bed")
        self.cluster = cluster
        self._lock = threading.Lock()
        self._consul: Optional[tuple[str, ...]] = None
        self._sentinels: dict[str, Optional[str]] = {node.name: None for node in cluster.nodes}
        self._writes: dict[str, str] = {node.name: "down" for node in cluster.nodes}
        self.observations: list[Observation] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._sample_consul, daemon=True, name="sample-consul"),
                         threading.Thread(target=self._record, daemon=True, name="sample-record")]
        self._threads += [threading.Thread(target=self._sample_node, args=(node.name,), daemon=True,
                                           name=f"sample-{node.name}") for node in cluster.nodes]

    def __enter__(self) -> "ClusterSampler":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)

    def _sample_consul(self) -> None:
        while not self._stop.is_set():
            try:
                found: Optional[tuple[str, ...]] = tuple(sorted(i.address for i in self.cluster.passing("redis")))
            except (HarnessError, ConsulHTTPError):
                found = None
            with self._lock:
                self._consul = found
            self._stop.wait(PERIOD)

    def _sample_node(self, name: str) -> None:
        node = self.cluster.node(name)
        connect = self.cluster.network.connector(name)
        for sequence in itertools.count():
            if self._stop.is_set():
                return
            try:
                resp.command(node.redis_port, "SET", f"chaos:probe:{name}", str(sequence),
                             timeout=PROBE_TIMEOUT, host=node.address, connect=connect)
                state = "ok"
            except (resp.RedisReplyError, resp.RedisConnectionError) as error:
                state = _write_state(error)
            try:
                reply = resp.command(node.sentinel_port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME,
                                     timeout=PROBE_TIMEOUT, host=node.address, connect=connect)
                master = reply[0].decode() if isinstance(reply, list) and reply and isinstance(reply[0], bytes) else None
            except (resp.RedisReplyError, resp.RedisConnectionError):
                master = None
            with self._lock:
                self._writes[name] = state
                self._sentinels[name] = master
            self._stop.wait(PERIOD)

    def _record(self) -> None:
        while not self._stop.wait(PERIOD):
            with self._lock:
                self.observations.append(Observation(time.time(), self._consul, dict(self._sentinels),
                                                     dict(self._writes)))

    # --- reading the run ------------------------------------------------------------------

    def between(self, start: float, end: float = float("inf")) -> list[Observation]:
        return [o for o in list(self.observations) if start <= o.at <= end]

    def first(self, predicate: Callable[[Observation], bool], after: float = 0.0) -> Optional[Observation]:
        return next((o for o in list(self.observations) if o.at >= after and predicate(o)), None)

    def longest(self, predicate: Callable[[Observation], bool], start: float = 0.0,
                end: float = float("inf")) -> float:
        """The longest stretch (seconds) in which every observation matched."""
        best, since = 0.0, None
        for observation in self.between(start, end):
            if predicate(observation):
                since = observation.at if since is None else since
                best = max(best, observation.at - since + PERIOD)
            else:
                since = None
        return best

    def converged(self, observation: Observation, master: str, nodes: list[str]) -> bool:
        """One master everywhere: Consul lists only it, every sentinel names it, only it takes writes."""
        return (observation.consul_masters == (master,)
                and all(observation.sentinel_masters.get(n) == master for n in nodes)
                and observation.writable() == [self.cluster.node_by_address(master).name])


@dataclass
class Ack:
    key: str
    at: float
    target: str


@dataclass
class Writer:
    """Writes unique keys every ~20 ms through `connect`, to whatever `target()` names,
    and keeps every acknowledged one."""

    name: str
    cluster: Cluster
    connect: Connector
    target: Callable[[], Optional[str]]
    acks: list[Ack] = field(default_factory=list)
    refused: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"writer-{self.name}")

    def __enter__(self) -> "Writer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        for sequence in itertools.count():
            if self._stop.wait(0.02):
                return
            address = self.target()
            if address is None:
                self.refused += 1
                continue
            key = f"chaos:{self.name}:{sequence}"
            try:
                reply = resp.command(6379, "SET", key, "1", timeout=WRITE_TIMEOUT, host=address, connect=self.connect)
            except (resp.RedisReplyError, resp.RedisConnectionError):
                self.refused += 1
                continue
            if reply == b"OK":
                self.acks.append(Ack(key, time.time(), address))


def lost_writes(cluster: Cluster, master_address: str, acks: list[Ack]) -> list[Ack]:
    """The acknowledged writes the master no longer has."""
    lost = []
    for start in range(0, len(acks), 500):
        chunk = acks[start:start + 500]
        values = resp.command(6379, "MGET", *[ack.key for ack in chunk], timeout=5, host=master_address)
        if not isinstance(values, list) or len(values) != len(chunk):
            raise HarnessError(f"MGET of {len(chunk)} keys on {master_address}: {values!r}")
        lost += [ack for ack, value in zip(chunk, values) if value is None]
    return lost
