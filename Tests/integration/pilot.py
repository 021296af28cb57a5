"""Plays ContainerPilot 3 for one node: runs the jobs of a parsed config on an event bus.

The job logic follows ContainerPilot 3's jobs package: every job is an event loop that
starts its exec on its `when` event (`once` or `each` from a `source`, or at startup and
then every `interval` for a periodic job), restarts it per `restarts`, runs its health
exec every `health.interval` seconds (killed at `health.timeout`) and publishes
`healthy`/`unhealthy`, and, for a job with a `port`, registers the service in Consul on
the first passing health exec and passes its TTL check on each one.

At shutdown every job gets the shutdown at once, publishes `stopping`, waits (up to its
`stopTimeout`) for the job that runs on its `stopping` (the preStop pattern), then sends
SIGTERM to its exec's process group and deregisters its service. ContainerPilot itself
sends no SIGKILL per job; the harness does, `stopTimeout` after the SIGTERM (5 s when the
job sets none), so a stuck server cannot outlive a test.

Departures, all on purpose: the `consul-agent` job is not run (the Consul double or a real
agent started by the test plays it; when the job starts, after preStart as in ContainerPilot,
the context's `start_agent` brings a killed double's agent back) and its health is "the agent
answers HTTP"; a job is
never restarted sooner than 100 ms after its last start, so a server that cannot start does
not spin a core of the shared test machine; and a start that comes while the job's exec
still runs (a periodic job slower than its interval) is skipped, where ContainerPilot would
block the job's event loop until the exec ends.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TextIO

from consul_http import ConsulHTTP, ConsulHTTPError
from containerpilot import ContainerPilotConfig, JobSpec

AGENT_JOB = "consul-agent"
DEFAULT_KILL_GRACE = 5.0
_MIN_RESTART_GAP = 0.1
_UNLIMITED = -1


@dataclass(frozen=True)
class Event:
    code: str
    source: str

    def __str__(self) -> str:
        return f"{self.code}:{self.source}"


STARTUP = Event("startup", "global")
SHUTDOWN = Event("shutdown", "global")
_HALT = Event("halt", "harness")  # hard kill: leave the loop without cleanup


class NodeLog:
    """One log file per node; every line says when and which job or hook wrote it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: TextIO = open(path, "a", encoding="utf-8", errors="replace")

    def write(self, who: str, line: str) -> None:
        # One clock reading for both parts: two could straddle a second.
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        with self._lock:
            if not self._file.closed:
                self._file.write(f"{stamp} [{who}] {line.rstrip()}\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class EventBus:
    def __init__(self, log: NodeLog) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue] = []
        self._history: list[tuple[float, Event]] = []
        self._log = log

    def subscribe(self, inbox: queue.Queue) -> None:
        with self._lock:
            self._subscribers.append(inbox)

    def unsubscribe(self, inbox: queue.Queue) -> None:
        with self._lock:
            if inbox in self._subscribers:
                self._subscribers.remove(inbox)

    def publish(self, event: Event) -> None:
        with self._lock:
            self._history.append((time.monotonic(), event))
            subscribers = list(self._subscribers)
        self._log.write("containerpilot", f"event {event}")
        for inbox in subscribers:
            inbox.put(event)

    def history(self) -> list[Event]:
        with self._lock:
            return [event for _, event in self._history]


class ProcessRegistry:
    """Every process the harness started for a node, so teardown can prove they are gone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: list[tuple[int, tuple[str, ...]]] = []
        self._live: dict[int, subprocess.Popen] = {}

    def add(self, process: subprocess.Popen, argv: tuple[str, ...]) -> None:
        with self._lock:
            self._all.append((process.pid, argv))
            self._live[process.pid] = process

    def exited(self, process: subprocess.Popen) -> None:
        with self._lock:
            self._live.pop(process.pid, None)

    def live(self) -> list[subprocess.Popen]:
        with self._lock:
            return list(self._live.values())

    def spawned(self) -> list[tuple[int, tuple[str, ...]]]:
        with self._lock:
            return list(self._all)


def signal_group(process: subprocess.Popen, sig: int) -> None:
    # Each exec leads its own process group, as under ContainerPilot (Setpgid), so its
    # children go with it.
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Exec:
    """One run of a command: own process group, output into the node log, optional timeout.

    Publishes exitSuccess/exitFailed under `name` when the process ends, unless the node
    was hard-killed (a dead ContainerPilot publishes nothing).
    """

    def __init__(self, name: str, argv: tuple[str, ...], timeout: Optional[float], env: dict[str, str],
                 cwd: str, log: NodeLog, bus: EventBus, registry: ProcessRegistry,
                 silenced: threading.Event) -> None:
        self.name = name
        self.argv = argv
        self._timeout = timeout
        self._log = log
        self._bus = bus
        self._registry = registry
        self._silenced = silenced
        self.done = threading.Event()
        self.returncode: Optional[int] = None
        self.process: Optional[subprocess.Popen] = None
        if silenced.is_set():
            self.done.set()
            return
        try:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as error:
            log.write(name, f"unable to start {' '.join(argv)}: {error}")
            self.returncode = 127
            self.done.set()
            if not silenced.is_set():
                bus.publish(Event("exitFailed", name))
            return
        registry.add(self.process, argv)
        log.write("containerpilot", f"{name} started pid {self.process.pid}: {' '.join(argv)}")
        self._reader = threading.Thread(target=self._copy_output, daemon=True,
                                        name=f"out-{name}-{self.process.pid}")
        self._reader.start()
        threading.Thread(target=self._wait, daemon=True, name=f"wait-{name}-{self.process.pid}").start()

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and not self.done.is_set()

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            self._log.write(self.name, raw.decode(errors="replace"))
        self.process.stdout.close()

    def _wait(self) -> None:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._log.write("containerpilot", f"{self.name} timeout after {self._timeout}s: killing")
            signal_group(self.process, signal.SIGKILL)
            code = self.process.wait()
        self._registry.exited(self.process)
        self._reader.join(timeout=2)
        self.returncode = code
        self._log.write("containerpilot", f"{self.name} pid {self.process.pid} exited with {code}")
        self.done.set()
        if not self._silenced.is_set():
            self._bus.publish(Event("exitSuccess" if code == 0 else "exitFailed", self.name))

    def signal(self, sig: int) -> None:
        if self.running():
            assert self.process is not None
            signal_group(self.process, sig)


class Ticker:
    """Puts `event` into `inbox` every `interval` seconds, first after one interval."""

    def __init__(self, inbox: queue.Queue, interval: float, event: Event) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(inbox, interval, event),
                                        daemon=True, name=f"tick-{event.source}")
        self._thread.start()

    def _run(self, inbox: queue.Queue, interval: float, event: Event) -> None:
        while not self._stop.wait(interval):
            inbox.put(event)

    def stop(self) -> None:
        self._stop.set()


@dataclass
class PilotContext:
    """What the jobs of one node share."""

    node: str  # plays the container's hostname in service IDs
    env: dict[str, str]
    cwd: str
    log: NodeLog
    bus: EventBus
    registry: ProcessRegistry
    consul: ConsulHTTP
    service_address: str
    interval_scale: float
    silenced: threading.Event  # set on hard kill
    start_agent: Callable[[], None]  # what starting the consul-agent job does


class Job:
    """One ContainerPilot job's event loop (jobs.Job in ContainerPilot 3)."""

    def __init__(self, spec: JobSpec, ctx: PilotContext, stopping_dependent: Optional[str]) -> None:
        self.spec = spec
        self.name = spec.name
        self._ctx = ctx
        self.inbox: queue.Queue = queue.Queue()
        when = spec.when
        if when.is_periodic or when.source is None:
            self._start_event: Optional[Event] = STARTUP
            self._starts_remain = 1
        else:
            self._start_event = Event(when.event or "", when.source)
            self._starts_remain = 1 if when.once else _UNLIMITED
        self._restart_limit = _UNLIMITED if spec.restarts is None else spec.restarts
        self._restarts_remain = self._restart_limit
        self._stopping_wait = Event("stopped", stopping_dependent) if stopping_dependent else None
        self._status = "idle"
        self._registered = False
        self._tickers: list[Ticker] = []
        self._exec: Optional[Exec] = None
        self._check: Optional[Exec] = None
        self._last_start = 0.0
        self._lock = threading.Lock()
        self.starts = 0
        self.check_name = f"check.{self.name}"
        self.service_id = f"{self.name}-{ctx.node}" if spec.port else None
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"job-{self.name}")

    # --- views for the harness ---------------------------------------------------------

    @property
    def exec(self) -> Optional[Exec]:
        with self._lock:
            return self._exec

    @property
    def status(self) -> str:
        return self._status

    def start(self) -> None:
        self._ctx.bus.subscribe(self.inbox)
        scale = self._ctx.interval_scale
        if self.spec.when.is_periodic:
            assert self.spec.when.interval is not None
            self._tickers.append(Ticker(self.inbox, self.spec.when.interval * scale,
                                        Event("timer", f"{self.name}.run-every")))
        if self.spec.health:
            self._tickers.append(Ticker(self.inbox, self.spec.health.interval * scale,
                                        Event("timer", f"{self.name}.heartbeat")))
        self._thread.start()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- event loop ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            event = self.inbox.get()
            if event == _HALT:
                self._stop_tickers()
                return
            if self._process_event(event):
                break
        self._cleanup()

    def _process_event(self, event: Event) -> bool:
        """Returns True when the job halts."""
        if event == Event("timer", f"{self.name}.heartbeat"):
            self._on_heartbeat()
        elif event == Event("timer", f"{self.name}.run-every"):
            return self._on_run_every()
        elif event == Event("exitFailed", self.check_name):
            self._set_status("unhealthy")
            self._ctx.bus.publish(Event("unhealthy", self.name))
        elif event == Event("exitSuccess", self.check_name):
            self._set_status("healthy")
            self._ctx.bus.publish(Event("healthy", self.name))
            self._send_heartbeat()
        elif event == SHUTDOWN:
            return self._on_quit()
        elif event in (Event("exitSuccess", self.name), Event("exitFailed", self.name)):
            return self._on_exec_exit()
        elif self._start_event is not None and event == self._start_event:
            return self._on_start_event()
        return False

    def _set_status(self, status: str) -> None:
        self._status = status

    def _on_heartbeat(self) -> None:
        if self._status == "idle" or self.spec.health is None:
            return
        if self._check is not None and self._check.running():
            return  # ContainerPilot never runs two of a job's health execs at once
        if self.name == AGENT_JOB:
            ok = self._ctx.consul.answers()
            self._ctx.bus.publish(Event("exitSuccess" if ok else "exitFailed", self.check_name))
            return
        self._check = Exec(self.check_name, self.spec.health.exec, self.spec.health.timeout,
                           self._ctx.env, self._ctx.cwd, self._ctx.log, self._ctx.bus,
                           self._ctx.registry, self._ctx.silenced)

    def _on_run_every(self) -> bool:
        if not self._restart_permitted():
            self._start_event = None
            return True
        self._restarts_remain -= 1
        self._start_exec()
        return False

    def _on_quit(self) -> bool:
        self._restarts_remain = 0
        if self._start_event is not None and self._start_event.code in ("stopping", "stopped"):
            # preStop-style jobs outlive the shutdown and end on their own exit.
            if self._starts_remain == _UNLIMITED:
                self._starts_remain = 1
            return False
        self._starts_remain = 0
        self._start_event = None
        return True

    def _on_exec_exit(self) -> bool:
        if self.spec.when.is_periodic:
            return False
        if self._restart_permitted():
            self._restarts_remain -= 1
            self._start_exec()
            return False
        if self._starts_remain != 0:
            return False
        self._start_event = None
        self._set_status("unknown")
        return True

    def _on_start_event(self) -> bool:
        if self._starts_remain == 0:
            self._start_event = None
            return True
        if self._starts_remain != _UNLIMITED:
            self._starts_remain -= 1
            if self._starts_remain == 0 or self._restarts_remain == 0:
                self._start_event = None
        self._start_exec()
        return False

    def _restart_permitted(self) -> bool:
        return self._restart_limit == _UNLIMITED or self._restarts_remain > 0

    def _start_exec(self) -> None:
        self._set_status("unknown")
        if self.name == AGENT_JOB:
            self._ctx.start_agent()
            return
        if self.spec.exec is None:
            return
        current = self.exec
        if current is not None and current.running():
            self._ctx.log.write("containerpilot", f"{self.name} is still running: this start is skipped")
            return
        gap = self._last_start + _MIN_RESTART_GAP - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        self._last_start = time.monotonic()
        started = Exec(self.name, self.spec.exec, self.spec.timeout, self._ctx.env, self._ctx.cwd,
                       self._ctx.log, self._ctx.bus, self._ctx.registry, self._ctx.silenced)
        with self._lock:
            self._exec = started
            self.starts += 1

    # --- Consul, as discovery.ServiceDefinition does it ---------------------------------

    def _ttl(self) -> str:
        assert self.spec.health is not None
        millis = max(1, round(self.spec.health.ttl * self._ctx.interval_scale * 1000))
        return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"

    def _send_heartbeat(self) -> None:
        if self.service_id is None or self.spec.port is None:
            return
        consul = self._ctx.consul
        try:
            if not self._registered:
                consul.register_ttl_service(self.service_id, self.name, self.spec.port,
                                            self._ctx.service_address, self._ttl(), status="passing")
                self._registered = True
                self._ctx.log.write("containerpilot", f"service registered: {self.service_id}")
            consul.pass_ttl(f"service:{self.service_id}")
        except ConsulHTTPError as error:
            self._ctx.log.write("containerpilot", f"heartbeat for {self.service_id} failed: {error}")

    # --- stopping ------------------------------------------------------------------------

    def _stop_tickers(self) -> None:
        for ticker in self._tickers:
            ticker.stop()

    def _cleanup(self) -> None:
        self._stop_tickers()
        self._ctx.bus.publish(Event("stopping", self.name))
        if self._stopping_wait is not None:
            deadline = None
            if self.spec.stop_timeout is not None and self.spec.stop_timeout > 0:
                deadline = time.monotonic() + self.spec.stop_timeout
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._ctx.log.write("containerpilot",
                                        f"{self.name}: {self._stopping_wait.source} still running "
                                        f"after stopTimeout {self.spec.stop_timeout}s")
                    break
                try:
                    event = self.inbox.get(timeout=remaining)
                except queue.Empty:
                    continue
                if event == _HALT:
                    return
                if event == self._stopping_wait:
                    break
        self._terminate()
        if self.service_id is not None and self._registered:
            try:
                self._ctx.consul.deregister_service(self.service_id)
            except ConsulHTTPError as error:
                self._ctx.log.write("containerpilot", f"deregistering {self.service_id} failed: {error}")
        self._ctx.bus.unsubscribe(self.inbox)
        self._ctx.bus.publish(Event("stopped", self.name))

    def _terminate(self) -> None:
        for running in (self.exec, self._check):
            if running is None or not running.running():
                continue
            running.signal(signal.SIGTERM)
            grace = self.spec.stop_timeout if self.spec.stop_timeout else DEFAULT_KILL_GRACE
            if not running.done.wait(grace):
                self._ctx.log.write("containerpilot", f"{running.name} ignored SIGTERM for {grace}s: SIGKILL")
                running.signal(signal.SIGKILL)
                running.done.wait(5)


class Pilot:
    """ContainerPilot for one node: the jobs of `config`, wired on one event bus."""

    def __init__(self, config: ContainerPilotConfig, ctx: PilotContext) -> None:
        self._ctx = ctx
        dependents = {job.when.source: job.name for job in config.jobs
                      if job.when.source and job.when.event == "stopping"}
        self.jobs = {spec.name: Job(spec, ctx, dependents.get(spec.name)) for spec in config.jobs}

    def start(self) -> None:
        for job in self.jobs.values():
            job.start()
        self._ctx.bus.publish(STARTUP)

    def stop(self, deadline: float) -> list[str]:
        """Graceful shutdown; returns the jobs that were still running at the deadline."""
        self._ctx.bus.publish(SHUTDOWN)
        stuck = []
        for job in self.jobs.values():
            if not job.join(max(0.0, deadline - time.monotonic())):
                stuck.append(job.name)
        return stuck

    def kill(self) -> None:
        """As if ContainerPilot and all its children got SIGKILL: no event, no cleanup."""
        self._ctx.silenced.set()
        for job in self.jobs.values():
            job.inbox.put(_HALT)
        for process in self._ctx.registry.live():
            signal_group(process, signal.SIGKILL)
        for job in self.jobs.values():
            job.join(5)
        # A job thread may have been starting an exec while the first sweep ran.
        for process in self._ctx.registry.live():
            signal_group(process, signal.SIGKILL)

    def events(self) -> list[Event]:
        return self._ctx.bus.history()
