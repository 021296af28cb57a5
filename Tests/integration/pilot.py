"""Plays ContainerPilot 3.8.0 for one node: runs the jobs of a parsed config on an event bus.

This module runs inside the node's own ContainerPilot stand-in process (pilot_process.py),
which is the parent of every exec, as the real ContainerPilot worker is. Each behaviour
follows github.com/joyent/containerpilot at tag 3.8.0:

- every job is an event loop (jobs/jobs.go Run, processEvent) that starts its exec on its
  `when` event (`once` or `each` from a `source`), or at startup and then every `interval`
  for a periodic job (NewEventTimer: the first run is at startup, before any other job);
- an exec runs in its own process group (commands/commands.go Run: Setpgid) and is killed
  with SIGKILL to the group at its `timeout` (Kill); a periodic job's timeout defaults to
  its interval (jobs/config.go validateExec);
- a job restarts its exec per `restarts` as soon as the exit event is processed
  (onExecExit), within about 10 ms, on the same command line; no other job runs again;
- a new run of a command waits for the previous run of the same command to end
  (commands.Command.lock), blocking the job's event loop meanwhile: a slow health exec
  delays the next one, a slow periodic exec delays the next interval's;
- health execs run every `health.interval` s, killed at `health.timeout` (the interval when
  unset), and publish `healthy`/`unhealthy`; a job with a `port` is registered in Consul on
  its first passing health exec and its TTL check is passed on each one (discovery/);
- exec output is re-logged by ContainerPilot at INFO with the job's name, so a `logging`
  level above INFO drops it, unless the job (or its health) sets `logging: {raw: true}`,
  which passes it through as it is (jobs/config.go, commands.NewCommand);
- on shutdown (SIGTERM or SIGINT to ContainerPilot, core/signals.go) every job quits at once
  and publishes `stopping`; a job whose `stopping` another job reacts to waits for that
  job's `stopped`, for as long as it takes: the job's `stopTimeout` starts a timer whose
  event the wait loop never matches (jobs.go cleanup), so only the other job's own `timeout`
  bounds the wait. Then the job's exec and health exec get SIGTERM, not awaited, and its
  service is deregistered (cleanup, commands.Term);
- once every job is done, ContainerPilot sleeps the top-level `stopTimeout` (default 5 s)
  and SIGKILLs every job's process group (core/app.go Run), then exits 0 (sup/sup.go: the
  PID 1 supervisor returns whatever happened to the worker);
- ContainerPilot exits only when every job is done: a job that never ends (an agent with
  unlimited restarts, a periodic job) keeps it, and the container, up.

Departures, all on purpose: the `consul-agent` job's exec is not run (the Consul double or a
real agent started by the test plays it; starting the job asks the harness to start the
node's agent, after preStart as in ContainerPilot) and its health is "the agent answers
HTTP"; intervals, TTLs and the top-level stopTimeout are multiplied by the harness's
`interval_scale`.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, TextIO

from consul_http import ConsulHTTP, ConsulHTTPError
from containerpilot import ContainerPilotConfig, JobSpec

AGENT_JOB = "consul-agent"
# commands.go Run/Wait: the exit event is processed and the exec started again at once; what
# was seen running the real binary is about 10 ms.
RESTART_GAP = 0.01
_UNLIMITED = -1
# logrus levels ContainerPilot's `logging.level` accepts, lowest first.
_LEVELS = ("DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "PANIC")


def relogs_at_info(level: Optional[str]) -> bool:
    """Whether ContainerPilot at `level` keeps what it re-logs of a job's output (at INFO)."""
    name = (level or "INFO").upper()
    return name not in _LEVELS or _LEVELS.index(name) <= _LEVELS.index("INFO")


@dataclass(frozen=True)
class Event:
    code: str
    source: str

    def __str__(self) -> str:
        return f"{self.code}:{self.source}"


STARTUP = Event("startup", "global")
SHUTDOWN = Event("shutdown", "global")


class Reporter:
    """Where the stand-in tells the harness what happens: events, processes, jobs."""

    def send(self, message: dict[str, Any]) -> None:
        pass


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
    def __init__(self, log: NodeLog, reporter: Reporter) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue] = []
        self._log = log
        self._reporter = reporter

    def subscribe(self, inbox: queue.Queue) -> None:
        with self._lock:
            self._subscribers.append(inbox)

    def unsubscribe(self, inbox: queue.Queue) -> None:
        with self._lock:
            if inbox in self._subscribers:
                self._subscribers.remove(inbox)

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        self._log.write("containerpilot", f"event {event}")
        self._reporter.send({"t": "event", "code": event.code, "source": event.source})
        for inbox in subscribers:
            inbox.put(event)


def signal_group(pid: int, sig: int) -> None:
    # Each exec leads its own process group, as under ContainerPilot (Setpgid), so its
    # children go with it.
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Exec:
    """One run of a command: own process group, output into the node log, optional timeout.

    Publishes exitSuccess/exitFailed under `name` when the process ends.
    """

    def __init__(self, name: str, job: str, argv: tuple[str, ...], timeout: Optional[float],
                 ctx: "PilotContext", raw_log: bool) -> None:
        self.name = name
        self.argv = argv
        self._timeout = timeout
        self._ctx = ctx
        self._raw_log = raw_log
        self.done = threading.Event()
        self.returncode: Optional[int] = None
        self.process: Optional[subprocess.Popen] = None
        try:
            self.process = subprocess.Popen(
                argv, env=ctx.env, cwd=ctx.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as error:
            ctx.log.write(name, f"unable to start {' '.join(argv)}: {error}")
            self.returncode = 127
            self.done.set()
            ctx.bus.publish(Event("exitFailed", name))
            return
        ctx.reporter.send({"t": "spawn", "pid": self.process.pid, "job": job, "exec": name, "argv": list(argv)})
        ctx.log.write("containerpilot", f"{name} started pid {self.process.pid}: {' '.join(argv)}")
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
        keep = self._raw_log or relogs_at_info(self._ctx.log_level)
        for raw in self.process.stdout:
            if not keep:
                continue
            line = raw.decode(errors="replace")
            if not self._raw_log:
                # config/logger DefaultLogFormatter: time, job name and pid before the line.
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                line = f"{stamp} {self.name} {self.process.pid} {line}"
            self._ctx.log.write(self.name, line)
        self.process.stdout.close()

    def _wait(self) -> None:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._ctx.log.write("containerpilot", f"{self.name} timeout after {self._timeout}s: killing")
            signal_group(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
        self._reader.join(timeout=2)
        self.returncode = code
        self._ctx.log.write("containerpilot", f"{self.name} pid {self.process.pid} exited with {code}")
        self._ctx.reporter.send({"t": "exit", "pid": self.process.pid, "exec": self.name, "code": code})
        self.done.set()
        self._ctx.bus.publish(Event("exitSuccess" if code == 0 else "exitFailed", self.name))

    def signal(self, sig: int) -> None:
        if self.running():
            assert self.process is not None
            signal_group(self.process.pid, sig)


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
    reporter: Reporter
    consul: ConsulHTTP
    service_address: str
    interval_scale: float
    log_level: Optional[str]  # ContainerPilot's own `logging.level`
    start_agent: Callable[[], None]  # what starting the consul-agent job does


class Job:
    """One ContainerPilot job's event loop (jobs.Job in ContainerPilot 3.8.0)."""

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

    @property
    def exec(self) -> Optional[Exec]:
        with self._lock:
            return self._exec

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

    def join(self, timeout: Optional[float] = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- event loop ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            if self._process_event(self.inbox.get()):
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
        if status != self._status:
            self._status = status
            self._ctx.reporter.send({"t": "status", "job": self.name, "status": status})

    def _on_heartbeat(self) -> None:
        if self._status == "idle" or self.spec.health is None:
            return
        if self.name == AGENT_JOB:
            ok = self._ctx.consul.answers()
            self._ctx.bus.publish(Event("exitSuccess" if ok else "exitFailed", self.check_name))
            return
        # commands.Command.lock: the next run waits for the previous one, loop and all.
        if self._check is not None:
            self._check.done.wait()
        self._check = Exec(self.check_name, self.name, self.spec.health.exec, self.spec.health.timeout,
                           self._ctx, self.spec.health.raw_log)

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
        if current is not None:
            # commands.Command.lock: a periodic exec slower than its interval delays the
            # next run (and this job's whole event loop) until it ends or is killed.
            current.done.wait()
        gap = self._last_start + RESTART_GAP - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        self._last_start = time.monotonic()
        started = Exec(self.name, self.name, self.spec.exec, self.spec.timeout, self._ctx, self.spec.raw_log)
        with self._lock:
            self._exec = started
            self.starts += 1
        self._ctx.reporter.send({"t": "exec", "job": self.name, "pid": started.pid, "starts": self.starts})

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

    def _cleanup(self) -> None:
        for ticker in self._tickers:
            ticker.stop()
        self._ctx.bus.publish(Event("stopping", self.name))
        if self._stopping_wait is not None:
            if self.spec.stop_timeout:
                self._ctx.log.write("containerpilot", f"{self.name}: stopTimeout {self.spec.stop_timeout:g}s "
                                    "set; in 3.8.0 it bounds nothing (its timer event is never matched)")
            while self.inbox.get() != self._stopping_wait:
                pass
        # cancel(): the exec's and the health exec's contexts end: SIGTERM, not awaited.
        for running in (self.exec, self._check):
            if running is not None:
                running.signal(signal.SIGTERM)
        if self.service_id is not None and self._registered:
            try:
                self._ctx.consul.deregister_service(self.service_id)
            except ConsulHTTPError as error:
                self._ctx.log.write("containerpilot", f"deregistering {self.service_id} failed: {error}")
        self._ctx.bus.unsubscribe(self.inbox)
        self._set_status("complete")
        self._ctx.bus.publish(Event("stopped", self.name))

    def kill(self) -> None:
        """Job.Kill: SIGKILL to the process group of the job's last exec, whatever it is now."""
        for last in (self.exec, self._check):
            if last is not None and last.pid is not None:
                signal_group(last.pid, signal.SIGKILL)


class Pilot:
    """ContainerPilot for one node: the jobs of `config`, wired on one event bus."""

    def __init__(self, config: ContainerPilotConfig, ctx: PilotContext) -> None:
        self._ctx = ctx
        self.config = config
        dependents = {job.when.source: job.name for job in config.jobs
                      if job.when.source and job.when.event == "stopping"}
        self.jobs = {spec.name: Job(spec, ctx, dependents.get(spec.name)) for spec in config.jobs}

    def start(self) -> None:
        for job in self.jobs.values():
            job.start()
        self._ctx.bus.publish(STARTUP)

    def shutdown(self) -> None:
        """What SIGTERM to ContainerPilot sets off (core/signals.go -> Bus.Shutdown)."""
        self._ctx.bus.publish(SHUTDOWN)

    def wait_until_done(self) -> None:
        """core/app.go Run: once every job is complete, sleep stopTimeout, SIGKILL them all."""
        for job in self.jobs.values():
            job.join()
        grace = self.config.stop_timeout * self._ctx.interval_scale
        self._ctx.log.write("containerpilot", f"every job is done; killing all processes in {grace:g}s")
        time.sleep(grace)
        for job in self.jobs.values():
            self._ctx.log.write("containerpilot", f"killing processes for job {job.name}")
            job.kill()
