"""Integration test bed: a cluster of redis-manage nodes on 127.0.0.1, each run by a
ContainerPilot stand-in (pilot.py) from etc/containerpilot.json5, over a Consul double
(or real agents) with one agent per node.

    cluster = Cluster(tmp_path, size=3, hooks=StubHooks(), interval_scale=0.2)
    try:
        cluster.start()
        ...
    finally:
        cluster.teardown()

The `cluster_factory` fixture of conftest.py does the try/finally for tests.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, TypeVar

import resp
import servers
from consul_http import ConsulHTTP, ConsulHTTPError
from containerpilot import ContainerPilotConfig, load_config
from netns import GATEWAY, NetworkBed
from pilot import Event, NodeLog, signal_group
from pilot_process import JobView, PilotProcess

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "doubles"))
import consul_backend  # noqa: E402 - lives beside this directory, in Tests/doubles

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "etc" / "containerpilot.json5"
REDIS_MANAGE_BIN = REPO_ROOT / ".build" / "debug"
STUB_HOOKS = Path(__file__).resolve().parent / "stub_hooks.py"
MASTER_NAME = "mymaster"
STANDARD_REDIS_PORT = 6379
STANDARD_SENTINEL_PORT = 26379
# Every process the harness starts carries this, so teardown can find any it missed.
RUN_MARKER = "REDIS_MANAGE_HARNESS_RUN"

T = TypeVar("T")


class HarnessError(Exception):
    """The test bed itself cannot do what was asked (missing binary, stuck process, ...)."""


class WaitTimeout(AssertionError):
    """A wait_until deadline passed."""


def wait_until(predicate: Callable[[], T], timeout: float, message: str, interval: float = 0.1,
               describe: Optional[Callable[[], str]] = None) -> T:
    """Polls `predicate` until it returns something truthy, which is returned.

    Exceptions from the predicate count as "not yet"; the last value or exception is put in
    the WaitTimeout raised at the deadline, with `message` and, if given, `describe()` (the
    state of the world, e.g. Cluster.describe).
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as error:  # noqa: BLE001 - any failure means "not yet"
            last = error
        if time.monotonic() >= deadline:
            state = ""
            if describe is not None:
                try:
                    state = "\n" + describe()
                except Exception as error:  # noqa: BLE001 - the timeout is the error to report
                    state = f"\n(describe failed: {error!r})"
            raise WaitTimeout(f"{message}: not true after {timeout:g}s (last: {last!r}){state}")
        time.sleep(interval)


def free_port(taken: set[int]) -> int:
    """A TCP port free on 127.0.0.1 now and not handed out before in this run."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port
    raise HarnessError("no free TCP port on 127.0.0.1 after 50 tries")


def process_alive(pid: int) -> bool:
    """The pid runs (a zombie or a missing pid does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _let_servers_reach(directory: Path) -> None:
    """As root, redis-manage runs the servers as REDIS_RUN_AS (redis): they must be able
    to pass through every directory above the node's own, as in an image (/data,
    /etc/redis). pytest makes its base directory 0700; those above are opened for
    passing through (o+x) only, never for reading."""
    if os.geteuid() != 0:
        return
    for parent in [directory, *directory.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def process_user(pid: int) -> Optional[str]:
    """The name of the real user a process runs as, None when it is gone."""
    import pwd
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return pwd.getpwuid(int(line.split()[1])).pw_name
    except (OSError, KeyError):
        return None
    return None


def _processes_with_marker(marker_value: str) -> list[int]:
    needle = f"{RUN_MARKER}={marker_value}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if needle in environ.read().split(b"\0") and process_alive(int(entry)):
                    found.append(int(entry))
        except OSError:
            continue
    return found


# --- Consul ---------------------------------------------------------------------------------


class ConsulAgents:
    """The nodes' Consul agents, from Tests/doubles/consul_backend.py.

    CONSUL_BACKEND picks the Consul double (default here) or real `consul agent`s; only the
    double can kill, revive or add an agent.
    """

    def __init__(self, workdir: Path, nodes: list[str], token: Optional[str] = None,
                 leader_delay: Optional[float] = None, session_ttl_min: Optional[float] = None,
                 backend: Optional[str] = None, data_dir_template: Optional[str] = None,
                 double_options: Optional[Mapping[str, Any]] = None) -> None:
        backend = backend or consul_backend.selected_backend()
        options: dict[str, Any] = {}
        if backend == "double":
            options["workdir"] = str(workdir)
            options["data_dir_template"] = data_dir_template
            if leader_delay is not None:
                options["leader_delay"] = leader_delay
            options.update(double_options or {})
        elif leader_delay is not None:
            raise HarnessError("leader_delay needs the Consul double, not CONSUL_BACKEND=real")
        workdir.mkdir(parents=True, exist_ok=True)
        self.backend = consul_backend.start_cluster(nodes, backend=backend, token=token,
                                                    session_ttl_min=session_ttl_min, **options)

    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def pids(self) -> list[int]:
        processes = getattr(self.backend, "processes", None) or [getattr(self.backend, "process")]
        return [process.pid for process in processes]

    @property
    def log_paths(self) -> list[Path]:
        if self.kind == "double":
            return [Path(self.backend.log_path)]
        return sorted(Path(self.backend.workdir).glob("*.log"))

    def agent_port(self, node: str) -> int:
        return self.backend.agents[node].port

    def agent_address(self, node: str) -> str:
        return self.backend.agents[node].address

    def data_dir(self, node: str) -> Optional[Path]:
        """Where the node's agent keeps its state (Consul's -data-dir)."""
        path = self.backend.data_dir(node)
        return Path(path) if path else None

    def _double(self, what: str) -> Any:
        if self.kind != "double":
            raise HarnessError(f"{what} needs the Consul double, not CONSUL_BACKEND={self.kind}")
        return self.backend

    def kill_agent(self, node: str) -> None:
        self._double("killing an agent").kill_agent(node)

    def revive_agent(self, node: str, sync_after: Optional[float] = None) -> None:
        self._double("reviving an agent").revive_agent(node, sync_after)

    def add_agent(self, node: str) -> int:
        return self._double("adding an agent").add_agent(node).port

    def set_leader(self, present: bool) -> None:
        self._double("switching the leader").set_leader(present)

    def partition_agent(self, node: str) -> None:
        self._double("partitioning an agent").partition_agent(node)

    def heal_agent(self, node: str) -> None:
        self._double("healing an agent").heal_agent(node)

    def stop(self) -> None:
        self.backend.stop()


# --- hooks ----------------------------------------------------------------------------------


class HookSet:
    """What `redis-manage` means on a node's PATH."""

    name = "hooks"

    def bin_dir(self, workdir: Path) -> Path:
        raise NotImplementedError

    def env(self, cluster: "Cluster", node: "Node") -> dict[str, str]:
        return {}


class RedisManageHooks(HookSet):
    """The real thing: .build/debug/redis-manage, built beforehand by `swift build`."""

    name = "redis-manage"

    def __init__(self, directory: Path = REDIS_MANAGE_BIN) -> None:
        self.directory = Path(directory)

    def bin_dir(self, workdir: Path) -> Path:
        binary = self.directory / "redis-manage"
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise HarnessError(f"{binary} is missing or not executable: "
                               f"run `swift build` in {REPO_ROOT} first")
        return self.directory


class StubHooks(HookSet):
    """TEST-ONLY hooks from stub_hooks.py, for the harness's own tests (its jobs, events and
    stop sequence), which must not depend on the product; every scenario runs redis-manage.

    `role_ttl` is the TTL (seconds, before interval_scale) of the role services the stub
    health hook registers, as the redis job's health.ttl in the config.
    """

    name = "stub"

    def __init__(self, role_ttl: float = 25.0) -> None:
        self.role_ttl = role_ttl

    def bin_dir(self, workdir: Path) -> Path:
        directory = workdir / "stub-bin"
        directory.mkdir(exist_ok=True)
        shim = directory / "redis-manage"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STUB_HOOKS}" "$@"\n')
        shim.chmod(0o755)
        return directory

    def env(self, cluster: "Cluster", node: "Node") -> dict[str, str]:
        ttl_ms = max(1000, round(self.role_ttl * cluster.interval_scale * 1000))
        return {"STUB_MASTER_REDIS_PORT": str(cluster.nodes[0].redis_port),
                "STUB_ROLE_TTL": f"{ttl_ms}ms"}


# --- nodes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentinelView:
    master: Optional[tuple[str, int]]
    replicas: int
    other_sentinels: int
    flags: str


class Node:
    """One container: its own ports and directories, its agent, and a ContainerPilot."""

    def __init__(self, cluster: "Cluster", name: str, redis_port: int, sentinel_port: int) -> None:
        self.cluster = cluster
        self.name = name
        self.redis_port = redis_port
        self.sentinel_port = sentinel_port
        self.dir = cluster.workdir / name
        self.data_dir = self.dir / "data"
        self.run_dir = self.dir / "run"
        self.etc_dir = self.dir / "etc"
        self.backup_dir = self.dir / "backup"
        for directory in (self.data_dir, self.run_dir, self.etc_dir, self.backup_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.log_path = cluster.workdir / f"{name}.log"
        self.log = NodeLog(str(self.log_path))
        self.extra_env: dict[str, str] = {}
        self.pilot: Optional[PilotProcess] = None
        self._last_pilot: Optional[PilotProcess] = None  # keeps the events of a stopped run
        self._pilots: list[PilotProcess] = []  # every run, for the processes they started
        self.agent_down = False
        self.config: Optional[ContainerPilotConfig] = None

    @property
    def agent_port(self) -> int:
        return self.cluster.agents.agent_port(self.name)

    @property
    def address(self) -> str:
        """Where the node's servers listen and what it announces: its own address in its
        network namespace (chaos mode), else 127.0.0.1."""
        network = self.cluster.network
        return network.place(self.name).address if network is not None else "127.0.0.1"

    @property
    def consul_address(self) -> str:
        return f"http://{self.cluster.agents.agent_address(self.name)}:{self.agent_port}"

    @property
    def consul_data_dir(self) -> Optional[Path]:
        return self.cluster.agents.data_dir(self.name)

    def consul(self, timeout: float = 2.0) -> ConsulHTTP:
        return ConsulHTTP(self.consul_address, token=self.cluster.token, timeout=timeout)

    def env(self) -> dict[str, str]:
        cluster = self.cluster
        env = {
            "PATH": os.pathsep.join([str(cluster.hook_bin), "/usr/local/sbin", "/usr/local/bin",
                                     "/usr/sbin", "/usr/bin", "/sbin", "/bin"]),
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
            # ContainerPilot names services <job>-<hostname>; nodes share this host.
            "HOSTNAME": self.name,
            "REDIS_PORT": str(self.redis_port),
            "SENTINEL_PORT": str(self.sentinel_port),
            "REDIS_DATA_DIR": str(self.data_dir),
            "REDIS_CONF": str(self.etc_dir / "redis.conf"),
            "SENTINEL_CONF": str(self.etc_dir / "sentinel.conf"),
            "REDIS_RUN_DIR": str(self.run_dir),
            "BACKUP_DIR": str(self.backup_dir),
            "REDIS_ANNOUNCE_IP": self.address,
            # The bed's servers answer on loopback only, as everything it starts does,
            # or on the node's own address in its namespace.
            "REDIS_BIND": self.address,
            "CONSUL_HTTP_ADDR": self.consul_address,
            "LOG_LEVEL": "DEBUG",
            RUN_MARKER: cluster.run_id,
        }
        if cluster.token:
            env["CONSUL_HTTP_TOKEN"] = cluster.token
        if self.consul_data_dir is not None:
            env["CONSUL_DATA_DIR"] = str(self.consul_data_dir)
        # REDIS_FLAVOUR (servers.py): the server program every node runs.
        env.update(servers.selected().node_env())
        env.update(cluster.hooks.env(cluster, self))
        env.update(cluster.extra_env)
        env.update(self.extra_env)
        return env

    # --- life -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """ContainerPilot runs: started and not exited (it exits once every job is done)."""
        return self.pilot is not None and self.pilot.alive()

    def start(self, extra_env: Optional[Mapping[str, str]] = None) -> None:
        """Starts (or restarts, on the same data dir) the node's ContainerPilot; its agent
        starts with the consul-agent job, after preStart, as in ContainerPilot."""
        if self.running:
            raise HarnessError(f"{self.name} is already running")
        if extra_env is not None:
            self.extra_env = dict(extra_env)
        if self.cluster.agents.kind == "double":
            # A container's agent is one of its jobs: it is not up before preStart has run.
            self._kill_agent()
        env = self.env()
        self.config = load_config(self.cluster.config_path, env)
        self.log.write("harness", f"starting {self.name} with the {self.cluster.hooks.name} hooks")
        spec = {"node": self.name, "env": env, "cwd": str(self.dir), "log": str(self.log_path),
                "config": str(self.cluster.config_path), "consul": self.consul_address,
                "token": self.cluster.token, "service_address": self.address,
                "interval_scale": self.cluster.interval_scale,
                "exec_prefix": self.cluster.network.exec_prefix(self.name) if self.cluster.network else []}
        run = len(self._pilots) + 1
        self.pilot = self._last_pilot = PilotProcess(
            spec, self.dir / f"pilot-{run}.json", [job.name for job in self.config.jobs], self._start_agent, self.log)
        self._pilots.append(self.pilot)

    def _start_agent(self) -> None:
        if not self.agent_down:
            return
        try:
            self.cluster.agents.revive_agent(self.name)
            self.agent_down = False
            self.log.write("harness", f"the agent of {self.name} started again on {self.consul_data_dir}")
        except (consul_backend.BackendError, HarnessError, OSError) as error:
            self.log.write("harness", f"the agent of {self.name} did not start again: {error}")

    def stop(self, timeout: float = 60.0, stop_agent: bool = True) -> None:
        """docker stop: SIGTERM to ContainerPilot, which stops its jobs and exits; then the
        agent goes too.

        Raises HarnessError (after killing what is left) when ContainerPilot outlives `timeout`.
        """
        if self.pilot is None:
            return
        self.log.write("harness", f"stopping {self.name}")
        pilot, self.pilot = self.pilot, None
        pilot.terminate()
        stopped = pilot.wait(timeout)
        if not stopped:
            pilot.kill()
        if stop_agent:
            self._kill_agent()
        self.log.write("harness", f"{self.name} stopped")
        if not stopped:
            raise HarnessError(f"{self.name}: ContainerPilot still running {timeout}s after SIGTERM "
                               f"(jobs: {self._job_summary(pilot)})")

    def wait_exited(self, timeout: float) -> bool:
        """True once ContainerPilot has exited on its own (every job done) within `timeout`."""
        return self.pilot is not None and self.pilot.wait(timeout)

    def kill(self) -> None:
        """kill -9 of the container: every process of the node and its agent, no hooks."""
        self.log.write("harness", f"killing {self.name} (SIGKILL)")
        if self.pilot is not None:
            pilot, self.pilot = self.pilot, None
            pilot.kill()
        self._kill_agent()

    def lose_agent(self) -> None:
        """The node's agent drops out (killed, or cut off with the node): its port refuses
        connections and gossip marks the node failed after the double's failure detection."""
        self._kill_agent()

    def regain_agent(self) -> None:
        """The agent is back with what it kept in its data dir (a restart or a healed cut)."""
        self._start_agent()

    def _kill_agent(self) -> None:
        if self.agent_down:
            return
        try:
            self.cluster.agents.kill_agent(self.name)
            self.agent_down = True
        except (consul_backend.BackendError, HarnessError, OSError) as error:
            # OSError covers urllib's URLError: the double itself is already gone.
            self.log.write("harness", f"the agent of {self.name} stays up: {error}")

    def kill_job_process(self, job: str = "redis", sig: int = signal.SIGKILL) -> int:
        """Signals only the current exec of `job` (redis-server by default); returns its pid."""
        view = self._pilot().job(job)
        if not view.running or view.pid is None:
            raise HarnessError(f"{self.name}: job {job} has no running process")
        self.log.write("harness", f"sending signal {sig} to {job} pid {view.pid}")
        signal_group(view.pid, sig)
        return view.pid

    def _pilot(self) -> PilotProcess:
        if self.pilot is None:
            raise HarnessError(f"{self.name} is not running")
        return self.pilot

    def job(self, job: str) -> JobView:
        return self._pilot().job(job)

    def job_pid(self, job: str) -> Optional[int]:
        """Pid of the job's running exec, None when it has none running."""
        if self.pilot is None:
            return None
        view = self.pilot.job(job)
        return view.pid if view.running else None

    def job_starts(self, job: str) -> int:
        return self._pilot().job(job).starts

    @staticmethod
    def _job_summary(pilot: PilotProcess) -> str:
        return ", ".join(f"{name} pid={view.pid if view.running else None} starts={view.starts} {view.status}"
                         for name in pilot.job_names() for view in [pilot.job(name)])

    def events(self) -> list[Event]:
        """Events of the current run, or of the last one once the node is stopped."""
        return self._last_pilot.events() if self._last_pilot is not None else []

    def saw(self, code: str, source: str) -> bool:
        return Event(code, source) in self.events()

    def spawned(self) -> list[tuple[int, tuple[str, ...]]]:
        """(pid, argv) of every process ContainerPilot started for this node, all runs."""
        return [entry for pilot in self._pilots for entry in pilot.spawned()]

    def spawned_pids(self) -> list[int]:
        return [pilot.pid for pilot in self._pilots] + [pid for pid, _ in self.spawned()]

    # --- Redis ----------------------------------------------------------------------------

    def redis(self, *args: Any, timeout: float = 2.0) -> resp.Reply:
        return resp.command(self.redis_port, *args, timeout=timeout, host=self.address)

    def sentinel(self, *args: Any, timeout: float = 2.0) -> resp.Reply:
        return resp.command(self.sentinel_port, *args, timeout=timeout, host=self.address)

    def role(self) -> Optional[str]:
        """INFO role (`master` or `slave`), None when redis-server does not answer."""
        try:
            return resp.info(self.redis_port, host=self.address).get("role")
        except (resp.RedisConnectionError, resp.RedisReplyError):
            return None

    def sentinel_view(self) -> SentinelView:
        fields = resp.pairs(self.sentinel("SENTINEL", "MASTER", MASTER_NAME))
        address = self.sentinel("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        master = None
        if isinstance(address, list) and len(address) == 2 and all(isinstance(a, bytes) for a in address):
            master = (address[0].decode(), int(address[1]))
        return SentinelView(master=master, replicas=int(fields.get("num-slaves", "0")),
                            other_sentinels=int(fields.get("num-other-sentinels", "0")),
                            flags=fields.get("flags", ""))


# --- cluster --------------------------------------------------------------------------------

_live_clusters: list["Cluster"] = []
_live_lock = threading.Lock()


@atexit.register
def _teardown_leftovers() -> None:
    with _live_lock:
        clusters = list(_live_clusters)
    for cluster in clusters:
        cluster.teardown()


@dataclass(frozen=True)
class PassingInstance:
    service_id: str
    node: str
    address: str
    port: int


class Cluster:
    """`size` nodes named node1..nodeN, each with its own Consul agent."""

    def __init__(self, workdir: Path, size: int = 3, hooks: Optional[HookSet] = None,
                 interval_scale: float = 1.0, config_path: Path = DEFAULT_CONFIG,
                 extra_env: Optional[Mapping[str, str]] = None, token: Optional[str] = None,
                 leader_delay: Optional[float] = None, session_ttl_min: Optional[float] = None,
                 consul_options: Optional[Mapping[str, Any]] = None,
                 network: Optional[NetworkBed] = None) -> None:
        """`consul_options`: the Consul double's start_double options (timing, delays, ACL
        file); real Consul has its own. `network`: each node in its own network namespace
        on that bed's bridge (netns.py), every node on Redis's and Sentinel's standard
        ports at its own address, the Consul double's agents on the bridge's address."""
        if interval_scale <= 0:
            raise HarnessError(f"interval_scale must be > 0, got {interval_scale}")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        _let_servers_reach(self.workdir)
        self.size = size
        self.hooks = hooks or RedisManageHooks()
        self.interval_scale = interval_scale
        self.config_path = Path(config_path)
        self.extra_env = dict(extra_env or {})
        self.token = token
        self.leader_delay = leader_delay
        self.session_ttl_min = session_ttl_min
        self.consul_options = dict(consul_options or {})
        self.network = network
        if network is not None:
            self.consul_options["listen"] = GATEWAY
        self.run_id = uuid.uuid4().hex
        self.hook_bin = self.hooks.bin_dir(self.workdir)
        self._ports: set[int] = set()
        self.nodes: list[Node] = []
        self.consul: Optional[ConsulAgents] = None
        self._torn_down = False

    @property
    def agents(self) -> ConsulAgents:
        if self.consul is None:
            raise HarnessError("the cluster is not started")
        return self.consul

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def start(self, start_nodes: bool = True) -> "Cluster":
        with _live_lock:
            _live_clusters.append(self)
        names = [f"node{index}" for index in range(1, self.size + 1)]
        # Each agent keeps its data on its node's disk, as /data/consul does in the image.
        self.consul = ConsulAgents(self.workdir / "consul", names, token=self.token,
                                   leader_delay=self.leader_delay, session_ttl_min=self.session_ttl_min,
                                   data_dir_template=str(self.workdir / "{node}" / "consul"),
                                   double_options=self.consul_options,
                                   backend="double" if self.network is not None else None)
        self.nodes = [self._new_node(name) for name in names]
        if start_nodes:
            for node in self.nodes:
                node.start()
        return self

    def add_node(self, start: bool = True) -> Node:
        """A new node (node<N+1>) with a new agent joined to the same catalog (double only)."""
        name = f"node{len(self.nodes) + 1}"
        self.agents.add_agent(name)
        node = self._new_node(name)
        self.nodes.append(node)
        if start:
            node.start()
        return node

    def _new_node(self, name: str) -> Node:
        if self.network is None:
            return Node(self, name, free_port(self._ports), free_port(self._ports))
        self.network.add_node(name)
        return Node(self, name, STANDARD_REDIS_PORT, STANDARD_SENTINEL_PORT)

    def stop(self, timeout: float = 60.0) -> None:
        """Graceful stop of every running node (all at once, as `docker compose down`)."""
        errors: list[str] = []

        def stop_one(node: Node) -> None:
            try:
                node.stop(timeout)
            except HarnessError as error:
                errors.append(str(error))

        threads = [threading.Thread(target=stop_one, args=(node,)) for node in self.nodes if node.running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 15)
        if errors:
            raise HarnessError("; ".join(errors))

    def teardown(self) -> None:
        """Kills everything this cluster started; safe to call more than once."""
        if self._torn_down:
            return
        self._torn_down = True
        try:
            for node in self.nodes:
                if node.pilot is not None:
                    node.pilot.kill()
                    node.pilot = None
            if self.consul is not None:
                self.consul.stop()
            for pid in _processes_with_marker(self.run_id):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        finally:
            for node in self.nodes:
                node.log.close()
            with _live_lock:
                if self in _live_clusters:
                    _live_clusters.remove(self)

    # --- processes ------------------------------------------------------------------------

    def spawned_pids(self) -> list[int]:
        pids = [pid for node in self.nodes for pid in node.spawned_pids()]
        if self.consul is not None:
            pids += self.consul.pids
        return pids

    def leftover_processes(self) -> list[int]:
        """Processes of this cluster still alive: any pid it started, or carrying its marker."""
        alive = {pid for pid in self.spawned_pids() if process_alive(pid)}
        return sorted(alive | set(_processes_with_marker(self.run_id)))

    # --- the cluster's view ---------------------------------------------------------------

    def running_nodes(self) -> list[Node]:
        return [node for node in self.nodes if node.running]

    def sentinel_views(self) -> dict[str, SentinelView]:
        return {node.name: node.sentinel_view() for node in self.running_nodes()}

    def sentinel_masters(self) -> dict[str, Optional[tuple[str, int]]]:
        """SENTINEL get-master-addr-by-name per running node (None when it does not answer)."""
        masters: dict[str, Optional[tuple[str, int]]] = {}
        for node in self.running_nodes():
            try:
                masters[node.name] = node.sentinel_view().master
            except (resp.RedisConnectionError, resp.RedisReplyError):
                masters[node.name] = None
        return masters

    def passing(self, service: str) -> list[PassingInstance]:
        """Passing instances of `service`, asked of the first agent that answers."""
        failures = []
        for node in self.nodes:
            if node.agent_down:
                continue
            try:
                entries = node.consul().passing(service)
            except ConsulHTTPError as error:
                failures.append(str(error))
                continue
            return [PassingInstance(service_id=entry["Service"]["ID"], node=entry["Node"]["Node"],
                                    address=entry["Service"].get("Address") or entry["Node"].get("Address", ""),
                                    port=int(entry["Service"]["Port"])) for entry in entries]
        raise HarnessError(f"no Consul agent answered: {failures}")

    def consul_master(self) -> Node:
        """The one node whose Redis Consul lists as the passing `redis`."""
        instances = self.passing("redis")
        if len(instances) != 1:
            raise HarnessError(f"expected one passing redis in Consul, found {instances}")
        if self.network is not None:
            return self.node_by_address(instances[0].address)
        return self.node_by_redis_port(instances[0].port)

    def node_by_redis_port(self, port: int) -> Node:
        if self.network is not None:
            raise HarnessError("every node has the same Redis port in a network bed: use node_by_address")
        for node in self.nodes:
            if node.redis_port == port:
                return node
        raise KeyError(f"no node has Redis port {port}")

    def node_by_address(self, address: str) -> Node:
        for node in self.nodes:
            if node.address == address:
                return node
        raise KeyError(f"no node has address {address}")

    def write(self, key: str, value: str) -> Node:
        """SET through the master Consul advertises; returns that node."""
        master = self.consul_master()
        reply = master.redis("SET", key, value)
        if reply != b"OK":
            raise HarnessError(f"SET {key} on {master.name}: {reply!r}")
        return master

    @staticmethod
    def read(node: Node, key: str) -> Optional[str]:
        value = node.redis("GET", key)
        return value.decode() if isinstance(value, bytes) else None

    def describe(self) -> str:
        """One line per node and one for Consul: what a failed wait was looking at."""
        lines = []
        for node in self.nodes:
            if not node.running:
                lines.append(f"{node.name}: not running (agent {'down' if node.agent_down else 'up'})")
                continue
            jobs = Node._job_summary(node._pilot())
            try:
                sentinel = node.sentinel_view()
            except (resp.RedisConnectionError, resp.RedisReplyError) as error:
                sentinel = error
            lines.append(f"{node.name}: redis :{node.redis_port} role={node.role()}; "
                         f"sentinel :{node.sentinel_port} {sentinel}; jobs: {jobs}")
        for service in ("redis", "redis-replica", "redis-sentinel"):
            try:
                found = [f"{i.service_id}@{i.port}" for i in self.passing(service)]
            except HarnessError as error:
                found = [str(error)]
            lines.append(f"consul passing {service}: {found}")
        return "\n".join(lines)

    # --- logs -----------------------------------------------------------------------------

    def log_paths(self) -> list[Path]:
        paths = [node.log_path for node in self.nodes]
        if self.consul is not None:
            paths.extend(self.consul.log_paths)
        return paths

    def collect_logs(self, max_lines: int = 3000) -> str:
        out = []
        for path in self.log_paths():
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError as error:
                out.append(f"===== {path}: unreadable: {error}")
                continue
            shown = lines[-max_lines:]
            cut = f" (last {max_lines} of {len(lines)} lines)" if len(lines) > max_lines else ""
            out.append(f"===== {path}{cut}")
            out.extend(shown)
        return "\n".join(out)
