"""A network for the chaos scenarios: one Linux network namespace per node, each with its
own address on a bridge the test creates, so that a partition is a real one.

    bed = NetworkBed.create()          # the bridge, with GATEWAY in the root namespace
    place = bed.add_node("node1")      # namespace + veth, address 10.213.0.11
    bed.isolate("node1", agent_port); bed.unblock("node1")
    bed.teardown()                     # kills what runs inside, removes namespaces and links

Only the reserved subnet SUBNET is used, and only namespaces and links this bed made (their
names carry the bed's tag) are touched. Needs root (CAP_NET_ADMIN), iproute2 and nftables;
`unavailable()` says why it cannot run here.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass
from typing import Callable, Optional

SUBNET = "10.213.0.0/24"
GATEWAY = "10.213.0.1"
PREFIX_LENGTH = 24
FIRST_NODE_HOST = 11
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class NetworkError(Exception):
    """A namespace, link or filter could not be made or changed; says which command failed."""


def _ip(*args: str, netns: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
    command = ["ip", *args] if netns is None else ["ip", "netns", "exec", netns, "ip", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        raise NetworkError(f"{' '.join(command)}: exit {result.returncode}: {result.stderr.strip()}")
    return result


def unavailable() -> Optional[str]:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN); run as root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if shutil.which("nft") is None:
        return "nftables is not installed (apt-get install nftables; scripts/install-test-deps)"
    probe = f"rmc-probe-{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


@dataclass(frozen=True)
class Placement:
    """Where one node lives: its namespace, its address, and the host end of its link."""

    node: str
    netns: str
    address: str
    host_link: str


class NamespaceDialer:
    """Opens sockets inside one namespace from the harness's own process.

    A network namespace belongs to a thread (setns), and a socket stays in the namespace it
    was made in: one thread enters the namespace and makes sockets on request, which any
    thread then uses. So the test reaches a node from inside its cut-off side.
    """

    def __init__(self, netns: str) -> None:
        self.netns = netns
        self._requests: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._error: Optional[str] = None
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"netns-{netns}")
        self._thread.start()
        self._ready.wait(5)
        if self._error is not None:
            raise NetworkError(self._error)

    def _run(self) -> None:
        try:
            with open(f"/run/netns/{self.netns}", "rb") as handle:
                if _libc.setns(handle.fileno(), _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        except OSError as error:
            self._error = f"entering namespace {self.netns}: {error}"
            self._ready.set()
            return
        self._ready.set()
        while True:
            reply = self._requests.get()
            if reply is None:
                return
            try:
                reply.put(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            except OSError as error:
                reply.put(error)

    def connect(self, address: tuple[str, int], timeout: float) -> socket.socket:
        """socket.create_connection, from inside the namespace."""
        reply: queue.Queue = queue.Queue()
        self._requests.put(reply)
        made = reply.get(timeout=5)
        if isinstance(made, OSError):
            raise made
        made.settimeout(timeout)
        try:
            made.connect(address)
        except BaseException:
            made.close()
            raise
        return made

    def close(self) -> None:
        self._requests.put(None)


def root_connect(address: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


Connector = Callable[[tuple[str, int], float], socket.socket]

_live_beds: list["NetworkBed"] = []


@atexit.register
def _teardown_leftovers() -> None:
    for bed in list(_live_beds):
        bed.teardown()


class NetworkBed:
    """The bridge and the namespaces of one test."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.bridge = f"rmcb{tag}"
        self.places: dict[str, Placement] = {}
        self.dialers: dict[str, NamespaceDialer] = {}
        self._filtered: set[str] = set()
        self._torn_down = False
        self.gateway = GATEWAY

    @classmethod
    def create(cls) -> "NetworkBed":
        reason = unavailable()
        if reason is not None:
            raise NetworkError(reason)
        holder = _subnet_holder()
        if holder is not None:
            raise NetworkError(f"the chaos subnet {SUBNET} is already on {holder} (another run, or "
                               f"a leftover of one: `ip link del {holder}`)")
        bed = cls(f"{os.getpid() % 0xFFFF:04x}")
        _live_beds.append(bed)
        try:
            _ip("link", "add", "name", bed.bridge, "type", "bridge")
            _ip("addr", "add", f"{GATEWAY}/{PREFIX_LENGTH}", "dev", bed.bridge)
            _ip("link", "set", bed.bridge, "up")
        except NetworkError:
            bed.teardown()
            raise
        return bed

    def add_node(self, node: str) -> Placement:
        index = len(self.places) + 1
        place = Placement(node=node, netns=f"rmc-{self.tag}-{node}",
                          address=f"10.213.0.{FIRST_NODE_HOST + index - 1}",
                          host_link=f"rmch{self.tag}n{index}")
        self.places[node] = place
        inner = f"rmci{self.tag}n{index}"
        _ip("netns", "add", place.netns)
        _ip("link", "add", place.host_link, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", place.netns)
        _ip("link", "set", place.host_link, "master", self.bridge)
        _ip("link", "set", place.host_link, "up")
        _ip("link", "set", "lo", "up", netns=place.netns)
        _ip("link", "set", inner, "name", "eth0", netns=place.netns)
        _ip("addr", "add", f"{place.address}/{PREFIX_LENGTH}", "dev", "eth0", netns=place.netns)
        _ip("link", "set", "eth0", "up", netns=place.netns)
        self.dialers[node] = NamespaceDialer(place.netns)
        return place

    def place(self, node: str) -> Placement:
        return self.places[node]

    def exec_prefix(self, node: str) -> list[str]:
        """What runs a program inside the node's namespace."""
        return ["ip", "netns", "exec", self.places[node].netns]

    def connector(self, node: Optional[str]) -> Connector:
        """How to open a connection from `node`'s namespace (None: the root namespace)."""
        return root_connect if node is None else self.dialers[node].connect

    # --- faults ----------------------------------------------------------------------------

    def isolate(self, node: str, agent_port: int) -> None:
        """Nothing on the bridge reaches the node or hears from it, the root namespace
        included, but for its own Consul agent's port: a container whose network is cut
        still talks to the agent it runs (which the test cuts off from the servers)."""
        self.block(node, [f"output ip daddr {GATEWAY} tcp dport {agent_port} accept",
                          f"output ip daddr {SUBNET} drop",
                          f"input ip saddr {GATEWAY} tcp sport {agent_port} accept",
                          f"input ip saddr {SUBNET} drop"])

    def block(self, node: str, rules: list[str]) -> None:
        """nftables rules in the node's own namespace (table inet chaos, input and output
        chains, loopback always allowed); replaces what was there."""
        netns = self.places[node].netns
        self.unblock(node)
        script = "\n".join([
            "table inet chaos {",
            "  chain input { type filter hook input priority 0; policy accept; iifname \"lo\" accept;",
            *[f"    {rule}" for rule in rules if rule.startswith("input ")],
            "  }",
            "  chain output { type filter hook output priority 0; policy accept; oifname \"lo\" accept;",
            *[f"    {rule}" for rule in rules if rule.startswith("output ")],
            "  }",
            "}",
        ]).replace("    input ", "    ").replace("    output ", "    ")
        result = subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=script,
                                capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            raise NetworkError(f"nft in {netns}: {result.stderr.strip()}\n{script}")
        self._filtered.add(node)

    def unblock(self, node: str) -> None:
        if node in self._filtered:
            subprocess.run(["ip", "netns", "exec", self.places[node].netns, "nft", "delete", "table",
                            "inet", "chaos"], capture_output=True, timeout=10)
            self._filtered.discard(node)

    # --- cleanup ---------------------------------------------------------------------------

    def processes(self) -> list[int]:
        pids: list[int] = []
        for place in self.places.values():
            listed = _ip("netns", "pids", place.netns, check=False)
            pids += [int(pid) for pid in listed.stdout.split() if pid.isdigit()]
        return pids

    def teardown(self) -> None:
        """Kills whatever still runs in the namespaces, then removes them, the links and
        the bridge. Safe to call more than once; tries every step even when one fails."""
        if self._torn_down:
            return
        self._torn_down = True
        for dialer in self.dialers.values():
            dialer.close()
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for place in self.places.values():
            _ip("netns", "del", place.netns, check=False)
            # Deleting the namespace takes the veth pair with it; this is for a half-made one.
            _ip("link", "del", place.host_link, check=False)
        _ip("link", "del", self.bridge, check=False)
        if self in _live_beds:
            _live_beds.remove(self)

    def leftovers(self) -> list[str]:
        """Namespaces and links of this bed that still exist."""
        names = set(_ip("netns", "list", check=False).stdout.split())
        links = _ip("-o", "link", "show", check=False).stdout
        found = [place.netns for place in self.places.values() if place.netns in names]
        found += [name for name in [self.bridge, *[p.host_link for p in self.places.values()]]
                  if f" {name}:" in links or f" {name}@" in links]
        return found


def _subnet_holder() -> Optional[str]:
    listed = _ip("-o", "-4", "addr", "show", check=False).stdout
    for line in listed.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].startswith("10.213.0."):
            return fields[1]
    return None

