"""Start a Consul for tests: the double (consul_double.py) or real `consul agent`s.

    import consul_backend
    cluster = consul_backend.start_cluster(["node1", "node2"], session_ttl_min=1.0)
    try:
        url = cluster.url("node1")          # http://127.0.0.1:PORT of node1's agent
    finally:
        cluster.stop()

The backend is chosen by CONSUL_BACKEND: `double`, `real`, or `auto` (the default:
real when a `consul` binary is on PATH, else the double). Both give one HTTP agent per
node name, all on 127.0.0.1 with their own ports; the real one adds a server agent.
Only the double has the control API (kill/revive/add agents, leader on/off).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

DOUBLE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "consul_double.py")
ADDRESS = "127.0.0.1"
# How late the double's catalog follows its agents: `consul` (Consul's own delays, see
# consul_state.Timing) or `instant` (every change at once). CONSUL_DOUBLE_TIMING overrides.
DEFAULT_TIMING = "consul"


def double_timing() -> str:
    choice = os.environ.get("CONSUL_DOUBLE_TIMING", DEFAULT_TIMING).strip().lower() or DEFAULT_TIMING
    if choice not in ("consul", "instant"):
        raise BackendError(f"CONSUL_DOUBLE_TIMING must be consul or instant, not {choice!r}")
    return choice


class BackendError(Exception):
    """The backend could not be started or driven; the message says why."""


@dataclass(frozen=True)
class Agent:
    node: str
    address: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"


@dataclass
class HTTPResult:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http_call(url: str, method: str = "GET", body: bytes | str | Any = None,
              headers: dict[str, str] | None = None, timeout: float = 10.0) -> HTTPResult:
    """One HTTP exchange; any status comes back as a result, never as an exception."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HTTPResult(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HTTPResult(error.code, dict(error.headers.items()), error.read())


def _wait_until(predicate, deadline: float, what: str, interval: float = 0.05) -> Any:
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (OSError, ValueError) as error:
            last_error = error
        time.sleep(interval)
    raise BackendError(f"timed out waiting for {what}" +
                       (f" (last error: {last_error})" if last_error else ""))


def _stop_process(process: subprocess.Popen, grace: float = 5.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def _log_tail(path: str, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read()[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""


class Cluster:
    """What both backends offer: agents by node name, and stop()."""

    kind = ""

    def __init__(self, agents: dict[str, Agent], workdir: str, owns_workdir: bool):
        self.agents = agents
        self.workdir = workdir
        self._owns_workdir = owns_workdir

    def url(self, node: str) -> str:
        return self.agents[node].url

    def data_dir(self, node: str) -> str | None:
        """The node's agent data directory (`-data-dir`), None when it keeps none."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _remove_workdir(self) -> None:
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


class DoubleCluster(Cluster):
    """consul_double.py as a subprocess, with its control API."""

    kind = "double"

    def __init__(self, process: subprocess.Popen, ready: dict[str, Any], workdir: str,
                 owns_workdir: bool, log_path: str, data_dir_template: str | None):
        agents = {node: Agent(node, a["address"], a["port"]) for node, a in ready["agents"].items()}
        super().__init__(agents, workdir, owns_workdir)
        self.process = process
        self.control_port = ready["control_port"]
        self.scheme = ready["scheme"]
        self.log_path = log_path
        self.data_dir_template = data_dir_template

    def data_dir(self, node: str) -> str | None:
        return self.data_dir_template.replace("{node}", node) if self.data_dir_template else None

    @property
    def control_url(self) -> str:
        return f"http://{ADDRESS}:{self.control_port}"

    def _control(self, method: str, path: str) -> Any:
        result = http_call(self.control_url + path, method)
        if result.status != 200:
            raise BackendError(f"control {method} {path}: {result.status} {result.text}")
        return result.json()

    def kill_agent(self, node: str) -> None:
        self._control("PUT", f"/control/agent/{node}/kill")

    def revive_agent(self, node: str, sync_after: float | None = None) -> None:
        """`sync_after`: its first full sync that many seconds later (one draw of Consul's
        random stagger), instead of a random one."""
        query = "" if sync_after is None else f"?sync_after={sync_after}"
        self._control("PUT", f"/control/agent/{node}/revive{query}")

    def partition_agent(self, node: str) -> None:
        """The agent runs but is cut off from the servers (see the README)."""
        self._control("PUT", f"/control/agent/{node}/partition")

    def heal_agent(self, node: str) -> None:
        self._control("PUT", f"/control/agent/{node}/heal")

    def add_agent(self, node: str) -> Agent:
        answer = self._control("PUT", f"/control/agent/add/{node}")
        agent = Agent(node, answer["address"], answer["port"])
        self.agents[node] = agent
        return agent

    def set_leader(self, present: bool) -> None:
        self._control("PUT", f"/control/leader/{'on' if present else 'off'}")

    def sync_agent(self, node: str) -> None:
        """The agent's anti-entropy full sync, now."""
        self._control("PUT", f"/control/agent/{node}/sync")

    def state(self) -> dict[str, Any]:
        return self._control("GET", "/control/state")

    def stop(self) -> None:
        _stop_process(self.process)
        self._remove_workdir()


class RealCluster(Cluster):
    """One `consul agent -server` and one client agent per node, on 127.0.0.1."""

    kind = "real"

    def __init__(self, processes: list[subprocess.Popen], agents: dict[str, Agent],
                 workdir: str, owns_workdir: bool):
        super().__init__(agents, workdir, owns_workdir)
        self.processes = processes

    def data_dir(self, node: str) -> str | None:
        return os.path.join(self.workdir, node)

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop_process(process)
        self._remove_workdir()


def start_double(nodes: list[str], *, leader_delay: float | None = None,
                 token: str | None = None, session_ttl_min: float | None = None,
                 workdir: str | None = None, timeout: float = 15.0,
                 verbose: bool = False, data_dir_template: str | None = None,
                 tls: tuple[str, str] | None = None, timing: str | None = None,
                 failure_detection: float | None = None, member_reconcile: float | None = None,
                 sync_stagger: float | None = None, acl_file: str | None = None,
                 listen: str | None = None) -> DoubleCluster:
    """`data_dir_template` ({node} for the node name): agents keep their state there as
    Consul's do, and a revived agent restores it (see agent_data_dir.py). `tls`
    (certificate, key): the agents serve https. `timing` is `consul` or `instant` (default:
    double_timing()); with `consul`, `failure_detection`, `member_reconcile` and
    `sync_stagger` replace Consul's delays (tests that need not wait them in full).
    `acl_file`: tokens and their policies (consul_acl.py). `listen`: the agents' address
    instead of 127.0.0.1 (the chaos tests' bridge)."""
    owns_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="consul-double-")
    ready_path = os.path.join(workdir, "consul-double.ready.json")
    log_path = os.path.join(workdir, "consul-double.log")
    if os.path.exists(ready_path):
        os.unlink(ready_path)
    command = [sys.executable, DOUBLE_SCRIPT, "--agents", ",".join(nodes),
               "--ready-file", ready_path]
    if leader_delay is not None:
        command += ["--leader-delay", str(leader_delay)]
    if token is not None:
        command += ["--token", token]
    if session_ttl_min is not None:
        command += ["--session-ttl-min", str(session_ttl_min)]
    if data_dir_template is not None:
        command += ["--data-dir", data_dir_template]
    if tls is not None:
        command += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    if (timing or double_timing()) == "instant":
        command.append("--instant")
    for option, value in (("--failure-detection", failure_detection),
                          ("--member-reconcile", member_reconcile), ("--sync-stagger", sync_stagger)):
        if value is not None:
            command += [option, str(value)]
    if acl_file is not None:
        command += ["--acl-file", acl_file]
    if listen is not None:
        command += ["--listen", listen]
    if verbose:
        command.append("--verbose")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)

    def ready() -> dict[str, Any] | None:
        if process.poll() is not None:
            raise BackendError(f"consul double exited with {process.returncode}: "
                               f"{_log_tail(log_path)}")
        if not os.path.exists(ready_path):
            return None
        with open(ready_path) as handle:
            return json.load(handle)

    try:
        document = _wait_until(ready, time.monotonic() + timeout, "the consul double's ready file")
    except BaseException:
        _stop_process(process)
        if owns_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    return DoubleCluster(process, document, workdir, owns_workdir, log_path, data_dir_template)


# ---------------------------------------------------------------------------
# Real Consul

def _free_port() -> int:
    """A port free for both TCP and UDP (Serf gossips on both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((ADDRESS, 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((ADDRESS, port))
                except OSError:
                    continue
                return port
    raise BackendError("no free port for TCP and UDP on 127.0.0.1")


def consul_version(binary: str = "consul") -> tuple[int, int, int]:
    output = subprocess.run([binary, "version"], capture_output=True, text=True,
                            timeout=10).stdout
    match = re.search(r"Consul v(\d+)\.(\d+)\.(\d+)", output)
    if match is None:
        raise BackendError(f"cannot read the version from `{binary} version`: {output[:200]!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def _acl_config(token: str, server: bool, version: tuple[int, int, int]) -> dict[str, Any]:
    tokens = {"agent": token}
    if server:
        # Consul 1.11 renamed the bootstrap "master" token "initial_management".
        tokens["initial_management" if version >= (1, 11, 0) else "master"] = token
    return {"enabled": True, "default_policy": "deny", "down_policy": "extend-cache",
            "enable_token_persistence": False, "tokens": tokens}


def start_real(nodes: list[str], *, token: str | None = None,
               session_ttl_min: float | None = None, workdir: str | None = None,
               timeout: float = 60.0, binary: str = "consul") -> RealCluster:
    owns_workdir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="consul-real-")
    version = consul_version(binary)
    processes: list[subprocess.Popen] = []
    agents: dict[str, Agent] = {}
    try:
        server_serf = _free_port()
        for name, server in [("consul-server", True)] + [(n, False) for n in nodes]:
            http_port = _free_port()
            os.makedirs(os.path.join(workdir, name), exist_ok=True)
            config: dict[str, Any] = {
                "datacenter": "dc1", "node_name": name, "data_dir": os.path.join(workdir, name),
                "bind_addr": ADDRESS, "advertise_addr": ADDRESS, "client_addr": ADDRESS,
                "disable_host_node_id": True, "disable_update_check": True, "log_level": "warn",
                "ports": {"http": http_port, "https": -1, "dns": -1, "grpc": -1,
                          "serf_lan": server_serf if server else _free_port(),
                          "serf_wan": _free_port(), "server": _free_port()},
            }
            if server:
                config.update({"server": True, "bootstrap_expect": 1})
                if session_ttl_min is not None:
                    config["session_ttl_min"] = f"{session_ttl_min}s"
            else:
                config["retry_join"] = [f"{ADDRESS}:{server_serf}"]
            if token is not None:
                config["acl"] = _acl_config(token, server, version)
            config_path = os.path.join(workdir, f"{name}.json")
            with open(config_path, "w") as handle:
                json.dump(config, handle)
            with open(os.path.join(workdir, f"{name}.log"), "ab") as log:
                processes.append(subprocess.Popen(
                    [binary, "agent", f"-config-file={config_path}"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
            if not server:
                agents[name] = Agent(name, ADDRESS, http_port)
        headers = {"X-Consul-Token": token} if token else {}
        deadline = time.monotonic() + timeout

        def cluster_ready() -> bool:
            for process in processes:
                if process.poll() is not None:
                    raise BackendError(f"consul agent exited with {process.returncode}; logs in "
                                       f"{workdir}")
            for agent in agents.values():
                leader = http_call(agent.url + "/v1/status/leader", headers=headers, timeout=2)
                if leader.status != 200 or not leader.json():
                    return False
            any_agent = next(iter(agents.values()))
            for node in nodes:
                health = http_call(f"{any_agent.url}/v1/health/node/{node}", headers=headers,
                                   timeout=2)
                if health.status != 200 or not any(
                        c["CheckID"] == "serfHealth" and c["Status"] == "passing"
                        for c in health.json()):
                    return False
            return True

        _wait_until(cluster_ready, deadline, "the real Consul cluster to elect a leader and "
                                             "see every node", interval=0.25)
    except BaseException:
        for process in reversed(processes):
            _stop_process(process)
        if owns_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    return RealCluster(processes, agents, workdir, owns_workdir)


def selected_backend() -> str:
    """`double` or `real`, from CONSUL_BACKEND (default `auto`)."""
    choice = os.environ.get("CONSUL_BACKEND", "auto").strip().lower() or "auto"
    if choice == "auto":
        return "real" if shutil.which("consul") else "double"
    if choice not in ("double", "real"):
        raise BackendError(f"CONSUL_BACKEND must be double, real or auto, not {choice!r}")
    if choice == "real" and not shutil.which("consul"):
        raise BackendError("CONSUL_BACKEND=real but no `consul` binary is on PATH")
    return choice


def start_cluster(nodes: list[str], *, backend: str | None = None, token: str | None = None,
                  session_ttl_min: float | None = None, **double_options: Any) -> Cluster:
    """Start the selected backend. `double_options` (leader_delay, verbose, ...) apply to
    the double only."""
    backend = backend or selected_backend()
    if backend == "real":
        return start_real(nodes, token=token, session_ttl_min=session_ttl_min)
    return start_double(nodes, token=token, session_ttl_min=session_ttl_min, **double_options)
