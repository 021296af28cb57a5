"""The cluster state behind the Consul double: catalog, health checks, KV store,
sessions and the Raft-like index, with Consul's documented semantics and no HTTP.

Each agent keeps its own services and checks; the catalog has a copy of each node that
follows the agent only as Consul's does (see Timing): through the agent's anti-entropy
syncs, and for serfHealth through the leader's reconciliation of gossip, both needing a
leader.

Every public method takes the one lock; methods starting with `_` expect it held.
Time-driven changes (TTL checks, session TTLs, lock delays, reaping, the leader
appearing) are applied by `advance`, run by a timekeeper thread that sleeps on the
same condition until the next deadline, and also at the start of every request so
answers are exact even between two timekeeper wake-ups.

Where the double picks one of several behaviours Consul allows, the choice is Consul's
own implementation's, and is written next to the code:
- a session TTL expires 2 x TTL after the last create/renew (Consul's
  SessionTTLMultiplier): never before its TTL, as the documentation promises;
- a service with DeregisterCriticalServiceAfter is reaped as soon as the timeout has
  passed (Consul reaps every 30 s and enforces a 1 minute minimum; tests need less);
- a check update that changes only the output shows on the agent at once but reaches
  the catalog with the next status change (Consul defers it by check_update_interval).
"""

from __future__ import annotations

import base64
import dataclasses
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from agent_data_dir import AgentDataDir

PASSING = "passing"
WARNING = "warning"
CRITICAL = "critical"
CHECK_STATUSES = (PASSING, WARNING, CRITICAL)

SERF_CHECK_ID = "serfHealth"
SERF_CHECK_NAME = "Serf Health Status"
SERF_ALIVE_OUTPUT = "Agent alive and reachable"
SERF_DEAD_OUTPUT = "Agent not live or unreachable"
TTL_EXPIRED_OUTPUT = "TTL expired"

DATACENTER = "dc1"
NODE_ADDRESS = "127.0.0.1"
LEADER_ADDRESS = "127.0.0.1:8300"
CONSUL_VERSION = "1.15.4"

SESSION_TTL_MAX = 86400.0
SESSION_TTL_MULTIPLIER = 2
DEFAULT_LOCK_DELAY = 15.0
MAX_LOCK_DELAY = 60.0
KV_MAX_VALUE_SIZE = 512 * 1024
CHECK_OUTPUT_MAX = 4 * 1024

NO_LEADER = "No cluster leader"
NO_SERVERS = "No known Consul servers"


class ConsulError(Exception):
    """An error Consul answers with this HTTP status and plain-text body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class AgentUnavailable(Exception):
    """The request reached an agent that was killed: it gets no answer at all."""


# ---------------------------------------------------------------------------
# Go durations ("10s", "1m30s", "250ms") as Consul parses and prints them.

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3,
                   "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string; ValueError when Go would reject it."""
    if not isinstance(text, str):
        raise ValueError(f"time: invalid duration {text!r}")
    body = text
    sign = 1.0
    if body[:1] in "+-" and body:
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0.0
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None:
            raise ValueError(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    return sign * total


def format_go_duration(seconds: float) -> str:
    """Go's Duration.String() for the values Consul puts in messages."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000:
        return f"{sign}{nanos}ns"
    if nanos < 1_000_000:
        return f"{sign}{_trim(nanos / 1e3)}µs"
    if nanos < 1_000_000_000:
        return f"{sign}{_trim(nanos / 1e6)}ms"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    secs = _trim(rest / 1e9)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def duration_field(raw: Any, name: str) -> float:
    """A check or session duration given as a Go string or as nanoseconds."""
    if isinstance(raw, bool):
        raise ConsulError(400, f"Request decode failed: {name}: expected a duration, got {raw!r}")
    if isinstance(raw, (int, float)):
        return float(raw) / 1e9
    try:
        return parse_go_duration(raw)
    except ValueError as error:
        raise ConsulError(400, f"Request decode failed: {name}: {error}") from None


# ---------------------------------------------------------------------------
# Request bodies: Consul decodes JSON keys case-insensitively and accepts the
# snake_case spellings too, so keys are compared lower-cased without underscores.

def _norm(key: str) -> str:
    return key.lower().replace("_", "")


class Fields:
    """Typed, case-insensitive access to a decoded JSON object."""

    def __init__(self, raw: Any, what: str):
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConsulError(400, f"Request decode failed: {what} must be a JSON object")
        self._values = {_norm(k): v for k, v in raw.items()}
        self._what = what

    def has(self, key: str) -> bool:
        return _norm(key) in self._values and self._values[_norm(key)] is not None

    def raw(self, key: str) -> Any:
        return self._values.get(_norm(key))

    def _fail(self, key: str, expected: str, value: Any) -> ConsulError:
        return ConsulError(400, f"Request decode failed: {self._what}.{key}: expected {expected}, "
                                f"got {type(value).__name__}")

    def string(self, key: str, default: str = "") -> str:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return value

    def integer(self, key: str, default: int = 0) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise self._fail(key, "an integer", value)
        return int(value)

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._fail(key, "a boolean", value)
        return value

    def strings(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, "a list of strings", value)
        return list(value)

    def string_map(self, key: str) -> dict[str, str]:
        value = self.raw(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(key, "an object of strings", value)
        return dict(value)

    def objects(self, key: str) -> list[Any]:
        value = self.raw(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "a list", value)
        return list(value)


# ---------------------------------------------------------------------------
# The records.

@dataclass
class Check:
    node: str
    check_id: str
    name: str
    status: str
    output: str = ""
    notes: str = ""
    service_id: str = ""
    service_name: str = ""
    service_tags: list[str] = field(default_factory=list)
    check_type: str = ""
    ttl: float | None = None
    expires_at: float | None = None
    deregister_after: float | None = None
    critical_since: float | None = None
    create_index: int = 0
    modify_index: int = 0

    def agent_json(self) -> dict[str, Any]:
        return {
            "Node": self.node, "CheckID": self.check_id, "Name": self.name,
            "Status": self.status, "Notes": self.notes, "Output": self.output,
            "ServiceID": self.service_id, "ServiceName": self.service_name,
            "ServiceTags": list(self.service_tags), "Type": self.check_type,
            "Definition": {}, "CreateIndex": 0, "ModifyIndex": 0,
        }

    def catalog_json(self) -> dict[str, Any]:
        result = self.agent_json()
        result["CreateIndex"] = self.create_index
        result["ModifyIndex"] = self.modify_index
        return result


@dataclass
class Service:
    node: str
    service_id: str
    name: str
    tags: list[str]
    address: str
    port: int
    meta: dict[str, str]
    enable_tag_override: bool
    weights: dict[str, int]
    create_index: int
    modify_index: int

    def agent_json(self) -> dict[str, Any]:
        return {
            "ID": self.service_id, "Service": self.name, "Tags": list(self.tags),
            "Meta": dict(self.meta), "Port": self.port, "Address": self.address,
            "Weights": dict(self.weights), "EnableTagOverride": self.enable_tag_override,
            "Datacenter": DATACENTER,
        }

    def catalog_json(self) -> dict[str, Any]:
        return {
            "ID": self.service_id, "Service": self.name, "Tags": list(self.tags),
            "Address": self.address, "Meta": dict(self.meta) or None, "Port": self.port,
            "Weights": dict(self.weights), "EnableTagOverride": self.enable_tag_override,
            "CreateIndex": self.create_index, "ModifyIndex": self.modify_index,
        }


PARTIAL_SYNC = "partial"
AWAITING_FULL_SYNC = "awaiting full sync"


@dataclass
class Node:
    """One agent and its node in the catalog. `services` and `checks` are the agent's own
    (what /v1/agent/* shows); `catalog_services` and `catalog_checks` are the servers' copy
    (what health and catalog reads show), which changes only when the agent syncs and, for
    `serfHealth`, when the leader reconciles the node's membership."""
    name: str
    node_id: str
    address: str
    alive: bool
    create_index: int
    modify_index: int
    services: dict[str, Service] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    registered: bool = False
    catalog_services: dict[str, Service] = field(default_factory=dict)
    catalog_checks: dict[str, Check] = field(default_factory=dict)
    # Consul's local state marks what it has not synced yet (InSync false, Deleted true).
    unsynced_services: set[str] = field(default_factory=set)
    unsynced_checks: set[str] = field(default_factory=set)
    deleted_services: set[str] = field(default_factory=set)
    deleted_checks: set[str] = field(default_factory=set)
    # agent/ae/ae.go's state machine: in partialSync every local change is sent at once;
    # otherwise nothing goes out until the full sync at `full_sync_at`.
    sync_state: str = PARTIAL_SYNC
    full_sync_at: float | None = None
    # The membership change the leader will reconcile (serfHealth passing or critical).
    serf_target: str | None = None
    serf_due: float | None = None
    # Cut off from the servers: the agent answers its own API, forwards nothing, syncs nothing.
    partitioned: bool = False

    def catalog_json(self) -> dict[str, Any]:
        return {
            "ID": self.node_id, "Node": self.name, "Address": self.address,
            "Datacenter": DATACENTER,
            "TaggedAddresses": {"lan": self.address, "lan_ipv4": self.address,
                                "wan": self.address, "wan_ipv4": self.address},
            "Meta": {"consul-network-segment": ""},
            "CreateIndex": self.create_index, "ModifyIndex": self.modify_index,
        }


@dataclass
class Session:
    session_id: str
    name: str
    node: str
    lock_delay: float
    behavior: str
    ttl_text: str
    ttl: float | None
    node_checks: list[str]
    service_checks: list[str]
    expires_at: float | None
    create_index: int

    @property
    def check_ids(self) -> list[str]:
        return self.node_checks + self.service_checks

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ID": self.session_id, "Name": self.name, "Node": self.node,
            "LockDelay": round(self.lock_delay * 1e9), "Behavior": self.behavior,
            "TTL": self.ttl_text, "NodeChecks": list(self.node_checks),
            "ServiceChecks": [{"ID": c, "Namespace": ""} for c in self.service_checks] or None,
            "CreateIndex": self.create_index, "ModifyIndex": self.create_index,
        }
        # Consul 1.7+ leaves out the legacy field when it holds only the default.
        if self.check_ids != [SERF_CHECK_ID]:
            result["Checks"] = self.check_ids
        return result


@dataclass(frozen=True)
class KVEntry:
    key: str
    value: bytes
    flags: int
    session: str
    lock_index: int
    create_index: int
    modify_index: int

    def same_content(self, other: KVEntry) -> bool:
        return (self.value, self.flags, self.session, self.lock_index) == \
               (other.value, other.flags, other.session, other.lock_index)

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "LockIndex": self.lock_index, "Key": self.key, "Flags": self.flags,
            "Value": base64.b64encode(self.value).decode("ascii") if self.value else None,
            "CreateIndex": self.create_index, "ModifyIndex": self.modify_index,
        }
        if self.session:
            result["Session"] = self.session
        return result


@dataclass(frozen=True)
class CheckDefinition:
    check_id: str
    name: str
    ttl: float
    status: str
    notes: str
    deregister_after: float | None
    service_id: str


_UNSUPPORTED_CHECK_KINDS = ("http", "tcp", "grpc", "args", "script", "dockercontainerid",
                            "aliasnode", "aliasservice", "h2ping", "udp", "osservice")
INVALID_CHECK_MESSAGE = "Must provide TTL or Script/DockerContainerID/HTTP/TCP and Interval"


def parse_check_definition(raw: Any, default_id: str, default_name: str,
                           what: str) -> CheckDefinition:
    fields = Fields(raw, what)
    for kind in _UNSUPPORTED_CHECK_KINDS:
        if fields.has(kind):
            raise ConsulError(400, f"the Consul double runs only TTL checks ({what} has {kind})")
    if not fields.has("ttl"):
        raise ConsulError(400, INVALID_CHECK_MESSAGE)
    ttl = duration_field(fields.raw("ttl"), f"{what}.TTL")
    if ttl <= 0:
        raise ConsulError(400, INVALID_CHECK_MESSAGE)
    status = fields.string("status")
    if status and status not in CHECK_STATUSES:
        raise ConsulError(400, "Status for checks must 'passing', 'warning', 'critical'")
    deregister_after = None
    if fields.has("deregistercriticalserviceafter"):
        deregister_after = duration_field(fields.raw("deregistercriticalserviceafter"),
                                          f"{what}.DeregisterCriticalServiceAfter")
        if deregister_after <= 0:
            deregister_after = None
    check_id = fields.string("checkid") or fields.string("id") or default_id
    name = fields.string("name") or default_name
    return CheckDefinition(check_id=check_id, name=name, ttl=ttl, status=status,
                           notes=fields.string("notes"), deregister_after=deregister_after,
                           service_id=fields.string("serviceid"))


def truncate_output(output: str) -> str:
    if len(output) <= CHECK_OUTPUT_MAX:
        return output
    return f"{output[:CHECK_OUTPUT_MAX]} ... (captured {CHECK_OUTPUT_MAX} of {len(output)} bytes)"


# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """When Consul's catalog follows what happens to an agent. The defaults are Consul's
    own; `instant()` makes every change reach the catalog at once (the double's old
    behaviour, kinder than Consul)."""
    # memberlist's LAN defaults: a dead node is probed within ProbeInterval (1 s), fails its
    # ProbeTimeout (0.5 s) and indirect probes, then stays suspect for SuspicionMult (4) x
    # ProbeInterval before the leader hears it failed and marks serfHealth critical.
    failure_detection: float = 5.0
    # A started or restarted agent joins, then the leader's reconcileMember (leader.go,
    # handleAliveMember) registers the node and its passing serfHealth.
    member_reconcile: float = 1.0
    # agent/ae/ae.go: serverUpIntv. The full sync after an agent sees a server waits a
    # random 0-3 s (waitFullSyncDelay); until then the catalog keeps the node's old state.
    sync_stagger: float = 3.0
    # agent/ae/ae.go: a full sync that fails (no leader) is retried after retryFailIntv
    # (15 s) plus up to as much again; periodic full syncs every AEInterval (1 min) + stagger.
    retry_fail: float = 15.0
    full_sync_interval: float = 60.0
    # Without a leader nothing reaches the catalog: agent syncs, reconciliation and
    # session invalidation wait for one.
    freeze_without_leader: bool = True

    @classmethod
    def instant(cls) -> Timing:
        return cls(failure_detection=0.0, member_reconcile=0.0, sync_stagger=0.0,
                   retry_fail=0.0, freeze_without_leader=False)


class ConsulState:
    """One datacenter: a server (the leader) and the agents of `node_names`."""

    def __init__(self, node_names: list[str], *, leader_delay: float = 0.0,
                 session_ttl_min: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 data_dir_template: str | None = None,
                 wall_clock: Callable[[], float] = time.time, timing: Timing | None = None,
                 random_fraction: Callable[[], float] = random.random):
        """`data_dir_template` (`{node}` stands for the node name) gives each agent a data
        directory in Consul's layout (agent_data_dir.py): a revived agent then restores
        its services and checks from it, as a restarted Consul agent does. Without it a
        revived agent keeps what it had in memory. `timing` says how late the catalog
        follows the agents (Timing's defaults are Consul's); `random_fraction` draws the
        staggers, in [0, 1)."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._clock = clock
        self._wall_clock = wall_clock
        self._timing = timing or Timing()
        self._random = random_fraction
        self._data_dir_template = data_dir_template
        self._data_dirs: dict[str, AgentDataDir] = {}
        self._index = 0
        self._nodes: dict[str, Node] = {}
        self._kv: dict[str, KVEntry] = {}
        self._tombstones: dict[str, int] = {}
        self._lock_delays: dict[str, float] = {}
        self._sessions: dict[str, Session] = {}
        self._service_index: dict[str, int] = {}
        self._catalog_index = 0
        self._kv_index = 0
        self._session_index = 0
        self._session_ttl_min = session_ttl_min
        self._leader_mode = "auto"
        self._leader_at = clock() + leader_delay
        self._leader_up = False
        self._closed = False
        with self._lock:
            now = self._clock()
            for name in node_names:
                # The cluster's first nodes have joined and synced before anyone asks.
                node = self._add_node(name)
                self._register_member(node, PASSING, self._next_index())
                node.full_sync_at = now + self._stagger(self._timing.full_sync_interval)
            self._advance(now)

    # -- index bookkeeping -------------------------------------------------

    def _next_index(self) -> int:
        self._index += 1
        return self._index

    def _touch_service(self, name: str, index: int) -> None:
        self._service_index[name] = index
        self._catalog_index = index

    def _touch_node(self, node: Node, index: int) -> None:
        node.modify_index = index
        self._catalog_index = index
        for service in node.catalog_services.values():
            self._touch_service(service.name, index)

    def _touch_check_owner(self, node: Node, check: Check, index: int) -> None:
        if check.service_id:
            service = node.catalog_services.get(check.service_id)
            if service is not None:
                self._touch_service(service.name, index)
            self._catalog_index = index
        else:
            self._touch_node(node, index)

    def _stagger(self, interval: float) -> float:
        """lib.RandomStagger: a random duration in [0, interval)."""
        return interval * self._random()

    # -- leader and time -----------------------------------------------------

    def _has_leader(self, now: float) -> bool:
        if self._leader_mode == "on":
            return True
        if self._leader_mode == "off":
            return False
        return now >= self._leader_at

    def _require_leader(self, now: float) -> None:
        if not self._has_leader(now):
            raise ConsulError(500, NO_LEADER)

    def _require_servers(self, agent: str, now: float, needs_leader: bool = True) -> None:
        """What an agent forwards to the servers: nothing gets through from a partitioned
        agent (rpc error "No known Consul servers", HTTP 500), stale reads included."""
        if self._nodes[agent].partitioned:
            raise ConsulError(500, NO_SERVERS)
        if needs_leader:
            self._require_leader(now)

    def _catalog_writable(self, now: float) -> bool:
        return self._has_leader(now) or not self._timing.freeze_without_leader

    def _advance(self, now: float) -> float | None:
        """Apply every change due by `now`; answer the next deadline, if any."""
        changed = False
        leader = self._has_leader(now)
        if leader and not self._leader_up:
            # A new leader restarts every session timer, as Consul's does.
            for session in self._sessions.values():
                if session.ttl is not None:
                    session.expires_at = now + session.ttl * SESSION_TTL_MULTIPLIER
        self._leader_up = leader

        if leader:
            for session in list(self._sessions.values()):
                if session.expires_at is not None and now >= session.expires_at:
                    self._destroy_session(session, self._next_index(), now)
                    changed = True

        for node in self._nodes.values():
            if node.serf_due is not None and node.serf_due <= now and self._catalog_writable(now):
                self._reconcile_member(node, now)
                changed = True
            if not node.alive:
                continue
            for check in list(node.checks.values()):
                if check.expires_at is not None and now >= check.expires_at:
                    check.expires_at = None
                    self._set_check_status(node, check, CRITICAL, TTL_EXPIRED_OUTPUT, now)
                    changed = True
            for service in list(node.services.values()):
                due = self._reap_due(node, service)
                if due is not None and due <= now:
                    self._remove_service(node, service, now)
                    changed = True
            if node.full_sync_at is not None and node.full_sync_at <= now:
                self._full_sync(node, now)
                changed = True

        if changed:
            self._changed.notify_all()
        return self._next_deadline(now)

    def _reap_due(self, node: Node, service: Service) -> float | None:
        due = None
        for check in node.checks.values():
            if check.service_id == service.service_id and check.status == CRITICAL \
                    and check.deregister_after is not None and check.critical_since is not None:
                when = check.critical_since + check.deregister_after
                due = when if due is None else min(due, when)
        return due

    def _next_deadline(self, now: float) -> float | None:
        deadlines: list[float] = []
        if self._leader_mode == "auto" and not self._leader_up:
            deadlines.append(self._leader_at)
        if self._leader_up:
            deadlines += [s.expires_at for s in self._sessions.values() if s.expires_at is not None]
        for node in self._nodes.values():
            if node.serf_due is not None and self._catalog_writable(now):
                deadlines.append(node.serf_due)
            if not node.alive:
                continue
            if node.full_sync_at is not None:
                deadlines.append(node.full_sync_at)
            deadlines += [c.expires_at for c in node.checks.values() if c.expires_at is not None]
            for service in node.services.values():
                due = self._reap_due(node, service)
                if due is not None:
                    deadlines.append(due)
        return min(deadlines) if deadlines else None

    def run_timekeeper(self) -> None:
        """Apply time-driven changes until `close`; sleeps until the next deadline."""
        with self._changed:
            while not self._closed:
                now = self._clock()
                deadline = self._advance(now)
                self._changed.wait(None if deadline is None else max(0.0, deadline - now))

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # -- membership: the leader's view of each node (serfHealth) --------------

    def _register_member(self, node: Node, status: str, index: int) -> None:
        """The leader's handleAliveMember / handleFailedMember: the node and its serfHealth."""
        node.registered = True
        node.catalog_checks[SERF_CHECK_ID] = Check(
            node=node.name, check_id=SERF_CHECK_ID, name=SERF_CHECK_NAME, status=status,
            output=SERF_ALIVE_OUTPUT if status == PASSING else SERF_DEAD_OUTPUT,
            create_index=index, modify_index=index)
        self._touch_node(node, index)

    def _reconcile_member(self, node: Node, now: float) -> None:
        target, node.serf_target, node.serf_due = node.serf_target, None, None
        serf = node.catalog_checks.get(SERF_CHECK_ID)
        if serf is not None and serf.status == target:
            return
        index = self._next_index()
        self._register_member(node, target, index)
        if target == CRITICAL:
            self._invalidate_sessions_of_check(node.name, SERF_CHECK_ID, index, now)

    def _expect_member(self, node: Node, status: str, after: float, now: float) -> None:
        serf = node.catalog_checks.get(SERF_CHECK_ID)
        if serf is not None and serf.status == status:
            # Back before the failure was detected: memberlist never declared it dead.
            node.serf_target = node.serf_due = None
            return
        node.serf_target, node.serf_due = status, now + after

    # -- anti-entropy: the agent's state reaching the catalog ------------------

    def _local_change(self, node: Node, now: float, service_id: str = "", check_id: str = "",
                      deleted: bool = False) -> None:
        """Consul's local state marks the entry out of sync and triggers SyncChanges, which
        the anti-entropy loop runs at once only in its partialSync state."""
        if service_id:
            (node.deleted_services if deleted else node.unsynced_services).add(service_id)
            (node.unsynced_services if deleted else node.deleted_services).discard(service_id)
        if check_id:
            (node.deleted_checks if deleted else node.unsynced_checks).add(check_id)
            (node.unsynced_checks if deleted else node.deleted_checks).discard(check_id)
        if node.sync_state == PARTIAL_SYNC:
            self._sync_changes(node, now)

    def _sync_changes(self, node: Node, now: float) -> None:
        """local.State.SyncChanges: sends what is marked out of sync; entries the catalog has
        and the agent never marked (lost with a restart) are left to the next full sync. The
        agent's write endpoints also call it directly (agent_endpoint.go, syncChanges)."""
        if not self._catalog_writable(now) or node.partitioned:
            return  # "failed to sync changes": the marks stay for the next try
        marks = (node.deleted_services, node.deleted_checks, node.unsynced_services,
                 node.unsynced_checks)
        if node.registered and not any(marks):
            return
        index = self._next_index()
        if not node.registered:
            # syncNodeInfo: the agent registers its node before its services.
            node.registered = True
            self._touch_node(node, index)
        for service_id in sorted(node.deleted_services):
            self._catalog_drop_service(node, service_id, index, now)
        for check_id in sorted(node.deleted_checks):
            self._catalog_drop_check(node, check_id, index, now)
        for service_id in sorted(node.unsynced_services):
            if service_id in node.services:
                self._catalog_put_service(node, node.services[service_id], index)
        for check_id in sorted(node.unsynced_checks):
            if check_id in node.checks:
                self._catalog_put_check(node, node.checks[check_id], index, now)
        for mark in marks:
            mark.clear()
        self._changed.notify_all()

    def _full_sync(self, node: Node, now: float) -> None:
        """local.State.SyncFull: the catalog's copy of the node becomes the agent's, every
        entry the agent does not have is deleted. Fails without a leader; retried after
        retryFailIntv, as ae.go does."""
        if not self._catalog_writable(now) or node.partitioned:
            node.full_sync_at = now + self._timing.retry_fail + self._stagger(self._timing.retry_fail)
            return
        node.deleted_services = set(node.catalog_services) - set(node.services)
        node.deleted_checks = {c for c in node.catalog_checks if c != SERF_CHECK_ID} - set(node.checks)
        node.unsynced_services = set(node.services)
        node.unsynced_checks = set(node.checks)
        node.sync_state = PARTIAL_SYNC
        node.full_sync_at = now + self._timing.full_sync_interval \
            + self._stagger(self._timing.full_sync_interval)
        self._sync_changes(node, now)

    def _await_full_sync(self, node: Node, now: float, delay: float | None = None) -> None:
        """A (re)started agent: its first full sync comes a random 0-3 s after it finds a
        server (ae.go waitFullSyncDelay after the SyncFull that ServerUp triggers), or
        `delay` later: one draw of that stagger, chosen by a test."""
        node.sync_state = AWAITING_FULL_SYNC
        node.full_sync_at = now + (self._stagger(self._timing.sync_stagger) if delay is None else delay)
        node.unsynced_services = set(node.services)
        node.unsynced_checks = set(node.checks)

    def _catalog_put_service(self, node: Node, service: Service, index: int) -> None:
        previous = node.catalog_services.get(service.service_id)
        copy = dataclasses.replace(service, tags=list(service.tags), meta=dict(service.meta),
                                   weights=dict(service.weights),
                                   create_index=previous.create_index if previous else index,
                                   modify_index=index)
        node.catalog_services[service.service_id] = copy
        if previous is not None and previous.name != service.name:
            self._touch_service(previous.name, index)
        self._touch_service(service.name, index)

    def _catalog_put_check(self, node: Node, check: Check, index: int, now: float) -> None:
        previous = node.catalog_checks.get(check.check_id)
        copy = dataclasses.replace(check, service_tags=list(check.service_tags),
                                   create_index=previous.create_index if previous else index,
                                   modify_index=index)
        node.catalog_checks[check.check_id] = copy
        self._touch_check_owner(node, copy, index)
        if check.status == CRITICAL and (previous is None or previous.status != CRITICAL):
            # The state store invalidates the sessions of a check that turns critical.
            self._invalidate_sessions_of_check(node.name, check.check_id, index, now)

    def _catalog_drop_service(self, node: Node, service_id: str, index: int, now: float) -> None:
        service = node.catalog_services.pop(service_id, None)
        if service is None:
            return
        for check in list(node.catalog_checks.values()):
            if check.service_id == service_id:
                self._catalog_drop_check(node, check.check_id, index, now)
        self._touch_service(service.name, index)

    def _catalog_drop_check(self, node: Node, check_id: str, index: int, now: float) -> None:
        check = node.catalog_checks.pop(check_id, None)
        if check is None:
            return
        self._touch_check_owner(node, check, index)
        self._invalidate_sessions_of_check(node.name, check_id, index, now)

    # -- nodes (agents) ----------------------------------------------------

    def _add_node(self, name: str) -> Node:
        index = self._next_index()
        node = Node(name=name, node_id=str(uuid.uuid4()), address=NODE_ADDRESS, alive=True,
                    create_index=index, modify_index=index)
        self._nodes[name] = node
        if self._data_dir_template is not None:
            self._data_dirs[name] = AgentDataDir(self._data_dir_template.replace("{node}", name))
        return node

    def _live_node(self, name: str) -> Node:
        node = self._nodes.get(name)
        if node is None or not node.alive:
            raise AgentUnavailable(name)
        return node

    def node_names(self) -> list[str]:
        with self._lock:
            return list(self._nodes)

    def agent_alive(self, name: str) -> bool:
        with self._lock:
            node = self._nodes.get(name)
            return node is not None and node.alive

    def add_agent(self, name: str) -> None:
        """A new agent: its API answers at once, but the catalog has no node (so no
        serfHealth) until the leader reconciles the member, and none of its services until
        its first full sync."""
        with self._changed:
            if name in self._nodes:
                raise ConsulError(409, f"agent {name!r} already exists")
            now = self._clock()
            node = self._add_node(name)
            self._expect_member(node, PASSING, self._timing.member_reconcile, now)
            self._await_full_sync(node, now)
            self._advance(now)
            self._changed.notify_all()

    def kill_agent(self, name: str) -> None:
        """The agent dies: its API stops answering at once; the catalog keeps what it had
        until gossip detects the failure and the leader marks serfHealth critical, which
        invalidates the node's sessions."""
        with self._changed:
            node = self._known_node(name)
            now = self._clock()
            self._advance(now)
            if node.alive:
                node.alive = False
                node.full_sync_at = None
                self._expect_member(node, CRITICAL, self._timing.failure_detection, now)
            self._advance(now)
            self._changed.notify_all()

    def partition_agent(self, name: str) -> None:
        """The agent is cut off from the servers but runs: its own API answers from local
        state, every forwarded call fails (500 `No known Consul servers`), its changes stay
        unsynced, and gossip marks its node failed after the failure detection, which
        drops its services from `?passing` and invalidates its sessions."""
        with self._changed:
            node = self._known_node(name)
            now = self._clock()
            self._advance(now)
            if node.alive and not node.partitioned:
                node.partitioned = True
                self._expect_member(node, CRITICAL, self._timing.failure_detection, now)
            self._advance(now)
            self._changed.notify_all()

    def heal_agent(self, name: str, sync_after: float | None = None) -> None:
        """The partition heals: the node rejoins (serfHealth passes once the leader
        reconciles it) and the agent's full sync, a random 0-3 s after it finds a server
        again, sends what it holds now; until then the catalog keeps what it had."""
        with self._changed:
            node = self._known_node(name)
            now = self._clock()
            if node.partitioned:
                node.partitioned = False
                self._expect_member(node, PASSING, self._timing.member_reconcile, now)
                self._await_full_sync(node, now, sync_after)
            self._advance(now)
            self._changed.notify_all()

    def revive_agent(self, name: str, sync_after: float | None = None) -> None:
        """The agent starts again: with a data directory, it has exactly the services and
        checks persisted there (see _restore_local_state); without one, what it had. The
        catalog keeps the node's entries from before the crash until the agent's first full
        sync; serfHealth passes again once the leader reconciles the rejoined member."""
        with self._changed:
            node = self._known_node(name)
            now = self._clock()
            if not node.alive:
                data_dir = self._data_dirs.get(name)
                if data_dir is not None:
                    self._restore_local_state(node, data_dir, now)
                node.alive = True
                node.deleted_services.clear()
                node.deleted_checks.clear()
                self._expect_member(node, PASSING, self._timing.member_reconcile, now)
                self._await_full_sync(node, now, sync_after)
            self._advance(now)
            self._changed.notify_all()

    def _restore_local_state(self, node: Node, data_dir: AgentDataDir, now: float) -> None:
        """Consul's loadServices and loadChecks: persisted services come back; each persisted
        check comes back critical unless its state file is unexpired, with its TTL clock
        started afresh; a check whose service is gone is deleted. Only the agent's own state
        changes here: the catalog follows at the next sync."""
        previous_services = node.services
        node.services = {}
        for raw in data_dir.load_services():
            try:
                service = self._persisted_service(node, raw, previous_services)
            except ConsulError:
                continue  # Consul logs a file it cannot decode and goes on
            if service is not None:
                node.services[service.service_id] = service
        node.checks = {}
        for raw_check, raw_type in data_dir.load_checks():
            try:
                definition = self._persisted_check_definition(raw_check, raw_type)
            except ConsulError:
                continue
            if definition is None:
                continue
            service = node.services.get(definition.service_id)
            if definition.service_id and service is None:
                data_dir.purge_check(definition.check_id)
                continue
            # As a new registration: critical, unless _put_check finds an unexpired state file.
            self._put_check(node, definition, service, now, keep_status=False)

    @staticmethod
    def _persisted_service(node: Node, raw: Any, previous: dict[str, Service]) -> Service | None:
        fields = Fields(raw, "persisted service")
        service_id, name = fields.string("id"), fields.string("service")
        if not service_id or not name:
            return None
        weights = Fields(fields.raw("weights"), "Weights")
        return Service(
            node=node.name, service_id=service_id, name=name, tags=fields.strings("tags"),
            address=fields.string("address"), port=fields.integer("port"),
            meta=fields.string_map("meta"), enable_tag_override=fields.boolean("enabletagoverride"),
            weights={"Passing": weights.integer("passing", 1), "Warning": weights.integer("warning", 1)},
            create_index=0, modify_index=0)

    @staticmethod
    def _persisted_check_definition(raw_check: Any, raw_type: Any) -> CheckDefinition | None:
        check_fields, type_fields = Fields(raw_check, "persisted check"), Fields(raw_type, "ChkType")
        check_id = check_fields.string("checkid")
        ttl = type_fields.integer("ttl") / 1e9
        if not check_id or ttl <= 0:
            return None
        deregister_after = type_fields.integer("deregistercriticalserviceafter") / 1e9
        return CheckDefinition(check_id=check_id, name=check_fields.string("name"), ttl=ttl,
                               status=CRITICAL, notes=check_fields.string("notes"),
                               deregister_after=deregister_after if deregister_after > 0 else None,
                               service_id=check_fields.string("serviceid"))

    def _known_node(self, name: str) -> Node:
        node = self._nodes.get(name)
        if node is None:
            raise ConsulError(404, f"no agent named {name!r}")
        return node

    def sync_agent(self, name: str) -> None:
        """The agent's full sync, now (the control API's shortcut past the stagger)."""
        with self._changed:
            node = self._known_node(name)
            now = self._clock()
            self._advance(now)
            if node.alive:
                self._full_sync(node, now)
            self._changed.notify_all()

    def set_leader(self, present: bool) -> None:
        with self._changed:
            self._leader_mode = "on" if present else "off"
            self._advance(self._clock())
            self._changed.notify_all()

    # -- reads ---------------------------------------------------------------

    def read(self, agent: str, query: Callable[[], tuple[int, Any]], *, min_index: int = 0,
             wait: float = 0.0, needs_leader: bool = True) -> tuple[int, Any]:
        """Run `query` (called with the lock held) as a Consul blocking query.

        With `min_index` > 0 the answer waits until the query's index passes it or
        `wait` seconds have gone by, like Consul's blockingQuery."""
        with self._changed:
            now = self._clock()
            deadline = now + wait
            while True:
                self._live_node(agent)
                self._advance(now)
                self._require_servers(agent, now, needs_leader)
                index, result = query()
                index = max(index, 1)
                if min_index <= 0 or index > min_index or now >= deadline or self._closed:
                    return index, result
                self._changed.wait(deadline - now)
                now = self._clock()

    def leader(self, agent: str) -> str:
        with self._lock:
            self._live_node(agent)
            now = self._clock()
            self._advance(now)
            self._require_servers(agent, now, needs_leader=False)
            return LEADER_ADDRESS if self._has_leader(now) else ""

    def has_leader(self) -> bool:
        with self._lock:
            return self._has_leader(self._clock())

    def agent_self(self, agent: str) -> dict[str, Any]:
        with self._lock:
            node = self._live_node(agent)
            return {
                "Config": {
                    "Datacenter": DATACENTER, "PrimaryDatacenter": DATACENTER,
                    "NodeName": node.name, "NodeID": node.node_id, "Server": False,
                    "Revision": "double", "Version": CONSUL_VERSION,
                },
                "Member": {
                    "Name": node.name, "Addr": node.address, "Port": 8301,
                    "Tags": {"dc": DATACENTER, "role": "node", "id": node.node_id},
                    "Status": 1, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
                    "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
                },
                "Meta": {"consul-network-segment": ""},
                "Stats": {},
            }

    def agent_services(self, agent: str) -> dict[str, Any]:
        with self._lock:
            node = self._live_node(agent)
            self._advance(self._clock())
            return {sid: s.agent_json() for sid, s in sorted(node.services.items())}

    def agent_checks(self, agent: str) -> dict[str, Any]:
        with self._lock:
            node = self._live_node(agent)
            self._advance(self._clock())
            return {cid: c.agent_json() for cid, c in sorted(node.checks.items())}

    def query_health_service(self, name: str, passing: bool,
                             tags: list[str]) -> tuple[int, list[Any]]:
        """Caller holds the lock (use `read`)."""
        result = []
        for node in sorted(self._nodes.values(), key=lambda n: n.name):
            if not node.registered:
                continue
            node_checks = [c for c in node.catalog_checks.values() if not c.service_id]
            for service in sorted(node.catalog_services.values(), key=lambda s: s.service_id):
                if service.name != name or not all(t in service.tags for t in tags):
                    continue
                checks = node_checks + [c for c in node.catalog_checks.values()
                                        if c.service_id == service.service_id]
                # Consul's ?passing drops an instance when any of its node's checks or
                # its own checks is not passing: warning is filtered out too.
                if passing and any(c.status != PASSING for c in checks):
                    continue
                result.append({"Node": node.catalog_json(), "Service": service.catalog_json(),
                               "Checks": [c.catalog_json() for c in checks]})
        return self._service_index.get(name, self._catalog_index), result

    def query_catalog_service(self, name: str, tags: list[str]) -> tuple[int, list[Any]]:
        """Caller holds the lock (use `read`)."""
        result = []
        for node in sorted(self._nodes.values(), key=lambda n: n.name):
            if not node.registered:
                continue
            for service in sorted(node.catalog_services.values(), key=lambda s: s.service_id):
                if service.name != name or not all(t in service.tags for t in tags):
                    continue
                node_json = node.catalog_json()
                result.append({
                    "ID": node.node_id, "Node": node.name, "Address": node.address,
                    "Datacenter": DATACENTER, "TaggedAddresses": node_json["TaggedAddresses"],
                    "NodeMeta": node_json["Meta"], "ServiceKind": "",
                    "ServiceID": service.service_id, "ServiceName": service.name,
                    "ServiceTags": list(service.tags), "ServiceAddress": service.address,
                    "ServiceWeights": dict(service.weights), "ServiceMeta": dict(service.meta),
                    "ServicePort": service.port,
                    "ServiceEnableTagOverride": service.enable_tag_override,
                    "CreateIndex": service.create_index, "ModifyIndex": service.modify_index,
                })
        return self._service_index.get(name, self._catalog_index), result

    def query_kv(self, key: str, recurse: bool) -> tuple[int, list[KVEntry]]:
        """Caller holds the lock (use `read`)."""
        if recurse:
            entries = [self._kv[k] for k in sorted(self._kv) if k.startswith(key)]
            return self._kv_prefix_index(key), entries
        entry = self._kv.get(key)
        if entry is None:
            return self._kv_index, []
        return entry.modify_index, [entry]

    def query_kv_keys(self, prefix: str, separator: str) -> tuple[int, list[str]]:
        """Caller holds the lock (use `read`)."""
        keys: list[str] = []
        for key in sorted(self._kv):
            if not key.startswith(prefix):
                continue
            if separator:
                cut = key.find(separator, len(prefix))
                if cut >= 0:
                    key = key[:cut + len(separator)]
            if not keys or keys[-1] != key:
                keys.append(key)
        return self._kv_prefix_index(prefix), keys

    def _kv_prefix_index(self, prefix: str) -> int:
        if not prefix:
            return self._kv_index
        indexes = [e.modify_index for k, e in self._kv.items() if k.startswith(prefix)]
        indexes += [i for k, i in self._tombstones.items() if k.startswith(prefix)]
        return max(indexes) if indexes else self._kv_index

    def query_session(self, session_id: str) -> tuple[int, list[Any]]:
        """Caller holds the lock (use `read`)."""
        session = self._sessions.get(session_id)
        return self._session_index, [session.json()] if session else []

    def query_sessions(self, node: str | None) -> tuple[int, list[Any]]:
        """Caller holds the lock (use `read`)."""
        sessions = sorted(self._sessions.values(), key=lambda s: s.create_index)
        return self._session_index, [s.json() for s in sessions if node in (None, s.node)]

    # -- agent writes (local to the agent: no leader needed) ---------------
    #
    # Each write endpoint changes the agent's state, then calls SyncChanges itself
    # (agent_endpoint.go, syncChanges): what is out of sync reaches the catalog at once when
    # there is a leader, whatever state the anti-entropy loop is in.

    def register_service(self, agent: str, body: Any, replace_existing_checks: bool) -> None:
        fields = Fields(body, "service")
        name = fields.string("name")
        if not name:
            raise ConsulError(400, "Missing service name")
        service_id = fields.string("id") or name
        address = fields.string("address")
        if address in ("0.0.0.0", "::", "[::]"):
            raise ConsulError(400, "Invalid service address")
        raw_checks = []
        if fields.has("check") and fields.raw("check") != {}:
            raw_checks.append(fields.raw("check"))
        raw_checks += fields.objects("checks")
        definitions = []
        for position, raw in enumerate(raw_checks, start=1):
            default_id = f"service:{service_id}" if len(raw_checks) == 1 \
                else f"service:{service_id}:{position}"
            definitions.append(parse_check_definition(
                raw, default_id, f"Service '{name}' check", "Check"))
        weights = fields.raw("weights")
        weights_fields = Fields(weights, "Weights")
        tags = fields.strings("tags")
        port = fields.integer("port")
        meta = fields.string_map("meta")
        enable_tag_override = fields.boolean("enabletagoverride")

        with self._changed:
            node = self._live_node(agent)
            now = self._clock()
            self._advance(now)
            service = Service(
                node=node.name, service_id=service_id, name=name, tags=tags, address=address,
                port=port, meta=meta, enable_tag_override=enable_tag_override,
                weights={"Passing": weights_fields.integer("passing", 1),
                         "Warning": weights_fields.integer("warning", 1)},
                create_index=0, modify_index=0)
            node.services[service_id] = service
            node.unsynced_services.add(service_id)
            node.deleted_services.discard(service_id)
            data_dir = self._data_dirs.get(node.name)
            if data_dir is not None:
                data_dir.save_service(service.agent_json())
            for check in node.checks.values():
                if check.service_id == service_id:
                    check.service_name, check.service_tags = name, list(tags)
                    node.unsynced_checks.add(check.check_id)
            new_ids = set()
            for definition in definitions:
                # Consul keeps the status and output of a check it already had when a
                # service is registered again; the TTL clock starts over.
                self._put_check(node, definition, service, now, keep_status=True)
                new_ids.add(definition.check_id)
            if replace_existing_checks:
                for check in list(node.checks.values()):
                    if check.service_id == service_id and check.check_id not in new_ids:
                        self._remove_check(node, check, now)
            self._sync_changes(node, now)
            self._changed.notify_all()

    def _put_check(self, node: Node, definition: CheckDefinition, service: Service | None,
                   now: float, keep_status: bool) -> None:
        previous = node.checks.get(definition.check_id)
        data_dir = self._data_dirs.get(node.name)
        status = definition.status or CRITICAL
        output = ""
        if previous is None and data_dir is not None:
            # Consul's addCheck loads a TTL check's state file, if one is left and unexpired.
            restored = data_dir.load_check_state(definition.check_id, self._wall_clock())
            if restored is not None and restored[0] in CHECK_STATUSES:
                status, output = restored
        critical_since = now if status == CRITICAL else None
        if keep_status and previous is not None:
            status, output, critical_since = previous.status, previous.output, previous.critical_since
        node.checks[definition.check_id] = Check(
            node=node.name, check_id=definition.check_id, name=definition.name,
            status=status, output=output, notes=definition.notes,
            service_id=service.service_id if service else "",
            service_name=service.name if service else "",
            service_tags=list(service.tags) if service else [],
            check_type="ttl", ttl=definition.ttl, expires_at=now + definition.ttl,
            deregister_after=definition.deregister_after, critical_since=critical_since)
        node.unsynced_checks.add(definition.check_id)
        node.deleted_checks.discard(definition.check_id)
        if data_dir is not None:
            data_dir.save_check(node.checks[definition.check_id].agent_json(), definition.ttl,
                                definition.deregister_after)

    def deregister_service(self, agent: str, service_id: str) -> None:
        with self._changed:
            node = self._live_node(agent)
            now = self._clock()
            self._advance(now)
            service = node.services.get(service_id)
            if service is None:
                raise ConsulError(404, f'Unknown service ID "{service_id}". Ensure that the '
                                       f'service ID is passed, not the service name.')
            self._remove_service(node, service, now)
            self._sync_changes(node, now)
            self._changed.notify_all()

    def _remove_service(self, node: Node, service: Service, now: float) -> None:
        del node.services[service.service_id]
        data_dir = self._data_dirs.get(node.name)
        if data_dir is not None:
            data_dir.purge_service(service.service_id)
        for check in list(node.checks.values()):
            if check.service_id == service.service_id:
                self._remove_check(node, check, now)
        self._local_change(node, now, service_id=service.service_id, deleted=True)

    def _remove_check(self, node: Node, check: Check, now: float) -> None:
        del node.checks[check.check_id]
        data_dir = self._data_dirs.get(node.name)
        if data_dir is not None:
            data_dir.purge_check(check.check_id)
        self._local_change(node, now, check_id=check.check_id, deleted=True)

    def register_check(self, agent: str, body: Any) -> None:
        fields = Fields(body, "check")
        if not fields.string("name"):
            raise ConsulError(400, "Missing check name")
        definition = parse_check_definition(body, fields.string("name"), "", "check")
        with self._changed:
            node = self._live_node(agent)
            now = self._clock()
            self._advance(now)
            service = None
            if definition.service_id:
                service = node.services.get(definition.service_id)
                if service is None:
                    raise ConsulError(500, f'ServiceID "{definition.service_id}" does not exist')
            self._put_check(node, definition, service, now, keep_status=False)
            self._sync_changes(node, now)
            self._changed.notify_all()

    def deregister_check(self, agent: str, check_id: str) -> None:
        with self._changed:
            node = self._live_node(agent)
            now = self._clock()
            self._advance(now)
            check = self._local_check(node, check_id)
            self._remove_check(node, check, now)
            self._sync_changes(node, now)
            self._changed.notify_all()

    def _local_check(self, node: Node, check_id: str) -> Check:
        check = node.checks.get(check_id)
        if check is None:
            raise ConsulError(404, f'Unknown check ID "{check_id}". Ensure that the check ID '
                                   f'is passed, not the check name.')
        return check

    def update_ttl_check(self, agent: str, check_id: str, status: str, output: str) -> None:
        """check/pass|warn|fail and check/update: any of them restarts the TTL clock."""
        with self._changed:
            node = self._live_node(agent)
            now = self._clock()
            self._advance(now)
            check = self._local_check(node, check_id)
            if check.ttl is None:
                raise ConsulError(500, f'CheckID "{check_id}" does not have associated TTL')
            check.expires_at = now + check.ttl
            self._set_check_status(node, check, status, truncate_output(output), now)
            data_dir = self._data_dirs.get(node.name)
            if data_dir is not None:
                # Consul's persistCheckState: Expires is Unix seconds, cut to the second.
                data_dir.save_check_state(check_id, status, check.output,
                                          int(self._wall_clock() + check.ttl))
            self._sync_changes(node, now)
            self._changed.notify_all()

    def _set_check_status(self, node: Node, check: Check, status: str, output: str,
                          now: float) -> None:
        """A new output alone stays on the agent (Consul defers it by check_update_interval);
        a new status is out of sync at once."""
        check.output = output
        if status == check.status:
            return
        check.status = status
        check.critical_since = now if status == CRITICAL else None
        self._local_change(node, now, check_id=check.check_id)

    # -- sessions ------------------------------------------------------------

    def _invalidate_sessions_of_check(self, node: str, check_id: str, index: int,
                                      now: float) -> None:
        for session in list(self._sessions.values()):
            if session.node == node and check_id in session.check_ids:
                self._destroy_session(session, index, now)

    def _destroy_session(self, session: Session, index: int, now: float) -> None:
        """Invalidate: release or delete its locks, and start their lock-delay."""
        del self._sessions[session.session_id]
        self._session_index = index
        delay = min(session.lock_delay, MAX_LOCK_DELAY)
        for key, entry in list(self._kv.items()):
            if entry.session != session.session_id:
                continue
            if session.behavior == "delete":
                self._kv_delete_key(key, index)
            else:
                self._kv_store(KVEntry(key, entry.value, entry.flags, "", entry.lock_index,
                                       entry.create_index, index))
            if delay > 0:
                self._lock_delays[key] = now + delay

    def create_session(self, agent: str, body: Any) -> str:
        fields = Fields(body, "session")
        node_name = fields.string("node")
        name = fields.string("name")
        lock_delay = DEFAULT_LOCK_DELAY
        if fields.has("lockdelay"):
            raw = fields.raw("lockdelay")
            lock_delay = duration_field(raw, "LockDelay")
            # Consul reads a small number as seconds, not nanoseconds.
            if lock_delay < 1000e-9:
                lock_delay = (float(raw) if isinstance(raw, (int, float)) else lock_delay * 1e9)
        behavior = fields.string("behavior") or "release"
        ttl_text = fields.string("ttl")
        if fields.has("checks") or fields.has("nodechecks") or fields.has("servicechecks"):
            node_checks = list(dict.fromkeys(fields.strings("nodechecks") + fields.strings("checks")))
            service_checks = [Fields(raw, "ServiceChecks[]").string("id")
                              for raw in fields.objects("servicechecks")]
        else:
            node_checks, service_checks = [SERF_CHECK_ID], []

        if behavior not in ("release", "delete"):
            raise ConsulError(500, f"Invalid Behavior setting '{behavior}'")
        ttl = None
        if ttl_text:
            try:
                ttl = parse_go_duration(ttl_text)
            except ValueError as error:
                raise ConsulError(500, f"Session TTL '{ttl_text}' invalid: {error}") from None
            if ttl != 0 and not self._session_ttl_min <= ttl <= SESSION_TTL_MAX:
                raise ConsulError(500, f"Invalid Session TTL '{round(ttl * 1e9)}', must be between "
                                       f"[{format_go_duration(self._session_ttl_min)}="
                                       f"{format_go_duration(SESSION_TTL_MAX)}]")
            if ttl == 0:
                ttl = None

        with self._changed:
            agent_node = self._live_node(agent)
            now = self._clock()
            self._advance(now)
            self._require_servers(agent, now)
            # state/session.go (sessionCreateTxn, validateSessionChecksTxn): the catalog's
            # node and checks, not the agent's.
            node = self._nodes.get(node_name or agent_node.name)
            if node is None or not node.registered:
                raise ConsulError(500, "Missing node registration")
            for check_id in node_checks + service_checks:
                check = node.catalog_checks.get(check_id)
                if check is None:
                    raise ConsulError(500, f"Missing check '{check_id}' registration")
                if check.status == CRITICAL:
                    raise ConsulError(500, f"Check '{check_id}' is in critical state")
            index = self._next_index()
            session = Session(
                session_id=str(uuid.uuid4()), name=name, node=node.name, lock_delay=lock_delay,
                behavior=behavior, ttl_text=ttl_text, ttl=ttl, node_checks=node_checks,
                service_checks=service_checks,
                expires_at=now + ttl * SESSION_TTL_MULTIPLIER if ttl else None,
                create_index=index)
            self._sessions[session.session_id] = session
            self._session_index = index
            self._changed.notify_all()
            return session.session_id

    def destroy_session(self, agent: str, session_id: str) -> None:
        with self._changed:
            self._live_node(agent)
            now = self._clock()
            self._advance(now)
            self._require_servers(agent, now)
            session = self._sessions.get(session_id)
            if session is not None:
                self._destroy_session(session, self._next_index(), now)
                self._changed.notify_all()

    def renew_session(self, agent: str, session_id: str) -> list[Any] | None:
        with self._changed:
            self._live_node(agent)
            now = self._clock()
            self._advance(now)
            self._require_servers(agent, now)
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if session.ttl is not None:
                session.expires_at = now + session.ttl * SESSION_TTL_MULTIPLIER
                self._changed.notify_all()
            return [session.json()]

    # -- KV writes -----------------------------------------------------------

    def _kv_store(self, entry: KVEntry) -> None:
        self._kv[entry.key] = entry
        self._kv_index = max(self._kv_index, entry.modify_index)

    def _kv_delete_key(self, key: str, index: int) -> None:
        if self._kv.pop(key, None) is not None:
            self._tombstones[key] = index
            self._kv_index = max(self._kv_index, index)

    def _kv_write(self, key: str, value: bytes, flags: int, session: str,
                  lock_index: int) -> None:
        existing = self._kv.get(key)
        candidate = KVEntry(key, value, flags, session, lock_index,
                            existing.create_index if existing else 0, 0)
        if existing is not None and existing.same_content(candidate):
            return
        index = self._next_index()
        self._kv_store(KVEntry(key, value, flags, session, lock_index,
                               existing.create_index if existing else index, index))
        self._changed.notify_all()

    def kv_put(self, agent: str, key: str, value: bytes, flags: int, *, cas: int | None = None,
               acquire: str | None = None, release: str | None = None) -> bool:
        with self._changed:
            self._live_node(agent)
            now = self._clock()
            self._advance(now)
            self._require_servers(agent, now)
            existing = self._kv.get(key)
            if acquire is not None:
                return self._kv_acquire(key, value, flags, acquire, existing, now)
            if release is not None:
                if not release:
                    raise ConsulError(500, "missing session")
                if existing is None or existing.session != release:
                    return False
                # Releasing clears the holder and writes the value; no lock-delay.
                self._kv_write(key, value, flags, "", existing.lock_index)
                return True
            if cas is not None:
                if cas == 0 and existing is not None:
                    return False
                if cas != 0 and (existing is None or existing.modify_index != cas):
                    return False
            self._kv_write(key, value, flags, existing.session if existing else "",
                           existing.lock_index if existing else 0)
            return True

    def _kv_acquire(self, key: str, value: bytes, flags: int, session_id: str,
                    existing: KVEntry | None, now: float) -> bool:
        if not session_id:
            raise ConsulError(500, "missing session")
        delay_until = self._lock_delays.get(key)
        if delay_until is not None:
            if now < delay_until:
                return False
            del self._lock_delays[key]
        if session_id not in self._sessions:
            raise ConsulError(500, f'invalid session "{session_id}"')
        if existing is None:
            lock_index = 1
        elif existing.session == session_id:
            lock_index = existing.lock_index
        elif existing.session:
            return False
        else:
            lock_index = existing.lock_index + 1
        self._kv_write(key, value, flags, session_id, lock_index)
        return True

    def kv_delete(self, agent: str, key: str, *, recurse: bool, cas: int | None) -> bool:
        with self._changed:
            self._live_node(agent)
            now = self._clock()
            self._advance(now)
            self._require_servers(agent, now)
            if recurse:
                doomed = [k for k in self._kv if k.startswith(key)]
                if doomed:
                    index = self._next_index()
                    for k in doomed:
                        self._kv_delete_key(k, index)
                    self._changed.notify_all()
                return True
            existing = self._kv.get(key)
            if existing is None:
                return True
            if cas is not None and existing.modify_index != cas:
                return False
            self._kv_delete_key(key, self._next_index())
            self._changed.notify_all()
            return True

    # -- debugging -------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            self._advance(now)
            return {
                "index": self._index,
                "leader": LEADER_ADDRESS if self._has_leader(now) else "",
                "nodes": {
                    name: {
                        "alive": node.alive,
                        "services": {sid: s.agent_json() for sid, s in node.services.items()},
                        "checks": {
                            cid: dict(c.agent_json(),
                                      ExpiresIn=None if c.expires_at is None
                                      else round(c.expires_at - now, 3))
                            for cid, c in node.checks.items()},
                        "catalog": {
                            "registered": node.registered,
                            "services": sorted(node.catalog_services),
                            "checks": {cid: c.status for cid, c in node.catalog_checks.items()},
                        },
                        "sync": {"state": node.sync_state,
                                 "full_sync_in": None if node.full_sync_at is None
                                 else round(node.full_sync_at - now, 3),
                                 "serf_target": node.serf_target,
                                 "serf_due_in": None if node.serf_due is None
                                 else round(node.serf_due - now, 3)},
                    } for name, node in self._nodes.items()},
                "sessions": [dict(s.json(), ExpiresIn=None if s.expires_at is None
                                  else round(s.expires_at - now, 3))
                             for s in self._sessions.values()],
                "kv": [dict(e.json(), ValueText=e.value.decode("utf-8", "replace"))
                       for _, e in sorted(self._kv.items())],
                "lock_delays": {k: round(t - now, 3) for k, t in self._lock_delays.items()
                                if t > now},
            }
