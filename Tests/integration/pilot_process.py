"""A node's ContainerPilot as a process of its own, and the harness's handle on it.

Run as a program (`python3 pilot_process.py SPEC.json`), it is the node's ContainerPilot
worker: it plays the jobs of pilot.py, so it is the parent of every exec, as the real one
is, and a hook that signals its parent reaches it. SIGTERM or SIGINT starts the shutdown
(core/signals.go); it exits 0 once every job is done, the stop timeout slept and every
job's process group killed (core/app.go, sup/sup.go), and it sets its process name to
`containerpilot`. It tells the harness what happens as JSON lines on its standard output.

`PilotProcess` is the harness's side: it starts the program, keeps what it reports (events,
processes, jobs), stops it as `docker stop` does (SIGTERM), or kills it and everything it
started as `docker kill` does.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from consul_http import ConsulHTTP
from containerpilot import load_config
from pilot import Event, EventBus, NodeLog, Pilot, PilotContext, Reporter, signal_group

PROCESS_NAME = b"containerpilot"
_PR_SET_NAME = 15


class _PipeReporter(Reporter):
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message) + "\n"
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the harness is gone; the node goes on as a container would


def main(spec_path: str) -> int:
    # The process name is what /proc/<pid>/comm shows: hooks check their parent by it.
    ctypes.CDLL(None).prctl(_PR_SET_NAME, PROCESS_NAME, 0, 0, 0)
    spec = json.loads(Path(spec_path).read_text())
    env: dict[str, str] = spec["env"]
    reporter = _PipeReporter(sys.stdout)
    log = NodeLog(spec["log"])
    config = load_config(Path(spec["config"]), env)
    ctx = PilotContext(
        node=spec["node"], env=env, cwd=spec["cwd"], log=log, bus=EventBus(log, reporter), reporter=reporter,
        # The node's own agent: what `localhost:8500` is inside a container, wherever the
        # harness put it on this shared host.
        consul=ConsulHTTP(spec["consul"], token=spec.get("token"), timeout=2.0),
        service_address=spec["service_address"], interval_scale=spec["interval_scale"],
        log_level=config.log_level, start_agent=lambda: reporter.send({"t": "start_agent"}))
    pilot = Pilot(config, ctx)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            log.write("containerpilot", f"received {signal.Signals(signum).name}: shutting down")
            pilot.shutdown()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pilot.start()
    done = threading.Thread(target=pilot.wait_until_done, daemon=True, name="wait-jobs")
    done.start()
    # The main thread only waits, so that Python runs the signal handler at once.
    while done.is_alive():
        done.join(0.05)
    log.write("containerpilot", "exiting")
    reporter.send({"t": "exit_pilot"})
    log.close()
    return 0


@dataclass
class JobView:
    """What the harness knows of one job from the stand-in's reports."""

    pid: Optional[int] = None
    running: bool = False
    starts: int = 0
    status: str = "idle"


@dataclass
class _Mirror:
    events: list[Event] = field(default_factory=list)
    jobs: dict[str, JobView] = field(default_factory=dict)
    spawned: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    live: set[int] = field(default_factory=set)


class PilotProcess:
    """The harness's handle on one node's ContainerPilot stand-in."""

    def __init__(self, spec: dict[str, Any], spec_path: Path, job_names: list[str],
                 on_start_agent: Callable[[], None], log: NodeLog) -> None:
        spec_path.write_text(json.dumps(spec))
        self._lock = threading.Lock()
        self._mirror = _Mirror(jobs={name: JobView() for name in job_names})
        self._on_start_agent = on_start_agent
        self._log = log
        self.process = subprocess.Popen(
            # exec_prefix: `ip netns exec NS` in chaos mode, which execs, so the pid is the stand-in's.
            [*spec.get("exec_prefix", []), sys.executable, str(Path(__file__).resolve()), str(spec_path)],
            env=_stand_in_env(spec["env"]),
            cwd=spec["cwd"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=open(spec["log"], "ab"), start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"pilot-{spec['node']}")
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("t") == "start_agent":
                self._on_start_agent()
                continue
            with self._lock:
                self._apply(message)

    def _apply(self, message: dict[str, Any]) -> None:
        mirror = self._mirror
        kind = message.get("t")
        if kind == "event":
            mirror.events.append(Event(message["code"], message["source"]))
        elif kind == "spawn":
            pid = message["pid"]
            mirror.spawned.append((pid, tuple(message["argv"])))
            mirror.live.add(pid)
        elif kind == "exit":
            mirror.live.discard(message["pid"])
            for view in mirror.jobs.values():
                if view.pid == message["pid"]:
                    view.running = False
        elif kind == "exec":
            view = mirror.jobs.setdefault(message["job"], JobView())
            view.pid, view.starts = message["pid"], message["starts"]
            view.running = view.pid is not None and view.pid in mirror.live
        elif kind == "status":
            mirror.jobs.setdefault(message["job"], JobView()).status = message["status"]

    # --- views ----------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.process.poll() is None

    def events(self) -> list[Event]:
        with self._lock:
            return list(self._mirror.events)

    def job(self, name: str) -> JobView:
        with self._lock:
            view = self._mirror.jobs.get(name)
            return JobView(**vars(view)) if view is not None else JobView()

    def job_names(self) -> list[str]:
        with self._lock:
            return list(self._mirror.jobs)

    def spawned(self) -> list[tuple[int, tuple[str, ...]]]:
        with self._lock:
            return list(self._mirror.spawned)

    def live_pids(self) -> list[int]:
        with self._lock:
            return sorted(self._mirror.live)

    # --- life -----------------------------------------------------------------------------

    def terminate(self) -> None:
        """docker stop's first step: SIGTERM to ContainerPilot."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> bool:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._reader.join(2)
        return True

    def kill(self) -> None:
        """docker kill: ContainerPilot and every process it started die at once."""
        if self.alive():
            self.process.kill()
        self.process.wait()
        self._reader.join(2)
        for pid in self.live_pids():
            signal_group(pid, signal.SIGKILL)
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _stand_in_env(env: dict[str, str]) -> dict[str, str]:
    # The stand-in itself is Python: it needs the harness's modules, not the node's PATH.
    own = dict(env)
    own["PYTHONPATH"] = os.pathsep.join(sys.path)
    own["PYTHONUNBUFFERED"] = "1"
    return own


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
