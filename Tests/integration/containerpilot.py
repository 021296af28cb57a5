"""Loads a ContainerPilot 3 configuration (etc/containerpilot.json5) into typed job specs.

ContainerPilot renders the file as a Go template over the environment, then parses it as
JSON5, then validates each job. This module does the same for the template subset the
project's config uses, so the integration harness runs exactly the jobs the image would
run. Anything outside that subset raises TemplateError instead of being guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import json5


class ConfigError(Exception):
    """The configuration cannot be rendered, parsed or validated."""


class TemplateError(ConfigError):
    """The file uses Go template syntax outside the supported subset."""


# Events a job may wait for in `when: {once|each}`; ContainerPilot's events.FromString.
JOB_EVENTS = frozenset(
    {"startup", "exitSuccess", "exitFailed", "healthy", "unhealthy", "stopping", "stopped"}
)


@dataclass(frozen=True)
class When:
    """When a job starts: after `once`/`each` event from `source`, or every `interval` s.

    No `when` in the file means ContainerPilot's global startup event, once.
    """

    source: Optional[str] = None
    once: Optional[str] = None
    each: Optional[str] = None
    interval: Optional[float] = None

    @property
    def event(self) -> Optional[str]:
        return self.once or self.each

    @property
    def is_periodic(self) -> bool:
        return self.interval is not None


@dataclass(frozen=True)
class HealthSpec:
    exec: tuple[str, ...]
    interval: float  # seconds between health execs
    ttl: float  # seconds, the Consul TTL check of a job with a port
    timeout: float  # seconds the exec may run (jobs/config.go: the interval when unset)
    raw_log: bool = False  # health.logging.raw: output passed through, not re-logged


@dataclass(frozen=True)
class JobSpec:
    name: str
    exec: Optional[tuple[str, ...]]
    when: When
    restarts: Optional[int]  # restarts allowed after the exec exits; None: unlimited
    port: Optional[int]
    health: Optional[HealthSpec]
    timeout: Optional[float]  # seconds the exec may run; None: unbounded
    # Parsed and validated as ContainerPilot does, but it bounds nothing in 3.8.0: the
    # stopping-timeout timer's event never matches the cleanup loop (jobs/jobs.go).
    stop_timeout: Optional[float]  # seconds; None: not set in the file
    raw_log: bool = False  # logging.raw: output passed through, not re-logged at INFO

    @property
    def restarts_unlimited(self) -> bool:
        return self.restarts is None


# config/config.go: defaultStopTimeout, the seconds between the last job's end and the
# SIGKILL of every job's process group.
DEFAULT_STOP_TIMEOUT = 5


@dataclass(frozen=True)
class ContainerPilotConfig:
    consul: Optional[str]
    log_level: Optional[str]
    jobs: tuple[JobSpec, ...]
    stop_timeout: int = DEFAULT_STOP_TIMEOUT  # the top-level stopTimeout, whole seconds

    def job(self, name: str) -> JobSpec:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(f"no job named {name!r} (jobs: {', '.join(j.name for j in self.jobs)})")


# --- template -----------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VAR = r"\.([A-Za-z_][A-Za-z0-9_]*)"
_PLAIN = re.compile(rf"^{_VAR}$")
_DEFAULT = re.compile(rf'^{_VAR}\s*\|\s*default\s+("(?:[^"\\\n]|\\.)*"|`[^`]*`)$')


def template_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The map ContainerPilot renders with.

    ContainerPilot builds it by splitting each `KEY=VALUE` on every '=' and keeping only
    the second piece, so a value containing '=' is cut there; the harness reproduces that
    so a config that works here works in the image.
    """
    return {key: value.split("=")[0] for key, value in environ.items()}


def _go_string(literal: str, where: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    try:
        return json.loads(literal)
    except json.JSONDecodeError as error:
        raise TemplateError(f"{where}: cannot read the string {literal}: {error}") from None


def render_template(text: str, environ: Mapping[str, str]) -> str:
    """Renders `{{ .VAR }}` and `{{ .VAR | default "x" }}` with ContainerPilot's semantics.

    A missing variable renders empty (ContainerPilot's missingkey=zero); `default` applies
    when the value is missing or empty. Any other action is an error naming its line.
    """
    env = template_environment(environ)
    out: list[str] = []
    position = 0
    for match in _ACTION.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        line = text.count("\n", 0, match.start()) + 1
        where = f"line {line}: {{{{{match.group(1)}}}}}"
        action = match.group(1)
        if action.startswith("-") or action.endswith("-"):
            raise TemplateError(f"{where}: whitespace trimming ({{{{- -}}}}) is not supported")
        action = action.strip()
        plain = _PLAIN.match(action)
        if plain:
            out.append(env.get(plain.group(1), ""))
            continue
        with_default = _DEFAULT.match(action)
        if with_default:
            value = env.get(with_default.group(1), "")
            out.append(value if value else _go_string(with_default.group(2), where))
            continue
        raise TemplateError(
            f"{where}: unsupported template action; the harness renders only "
            '{{ .VAR }} and {{ .VAR | default "x" }}'
        )
    rest = text[position:]
    if "{{" in rest:
        line = text.count("\n", 0, position + rest.index("{{")) + 1
        raise TemplateError(f"line {line}: '{{{{' without a closing '}}}}'")
    out.append(rest)
    return "".join(out)


# --- durations ----------------------------------------------------------------------------

_GO_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
                      "m": 60.0, "h": 3600.0}
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(value: Any, what: str) -> float:
    """Seconds from ContainerPilot's duration forms: a number of seconds or a Go duration."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a duration, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ConfigError(f"{what}: duration {value!r} is negative")
        return float(value)
    if not isinstance(value, str) or value == "":
        raise ConfigError(f"{what}: expected a duration such as 5 or \"5s\", got {value!r}")
    if value.isdigit():
        return float(value)
    total = 0.0
    position = 0
    for part in _GO_DURATION_PART.finditer(value):
        if part.start() != position:
            break
        total += float(part.group(1)) * _GO_DURATION_UNITS[part.group(2)]
        position = part.end()
    if position != len(value) or position == 0:
        raise ConfigError(f"{what}: {value!r} is not a duration such as 5, \"500ms\", \"5s\", \"10m\"")
    return total


def _optional_duration(value: Any, what: str) -> Optional[float]:
    return None if value is None or value == "" else parse_duration(value, what)


def _whole_seconds(value: Any, what: str) -> int:
    # ContainerPilot decodes health.interval and health.ttl into Go ints.
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected whole seconds, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isdigit():
        number = int(value)
    else:
        raise ConfigError(f"{what}: expected whole seconds, got {value!r}")
    if number < 1:
        raise ConfigError(f"{what}: must be > 0, got {number}")
    return number


# --- jobs ---------------------------------------------------------------------------------


def _argv(value: Any, what: str) -> tuple[str, ...]:
    # ContainerPilot takes an array of strings, or one string split on whitespace.
    if isinstance(value, str):
        argv = tuple(value.split())
    elif isinstance(value, list) and all(isinstance(arg, str) for arg in value):
        argv = tuple(value)
    else:
        raise ConfigError(f"{what}: expected a string or an array of strings, got {value!r}")
    if not argv:
        raise ConfigError(f"{what}: empty command")
    return argv


def _when(raw: Any, name: str) -> When:
    if raw is None:
        return When()
    if not isinstance(raw, dict):
        raise ConfigError(f"job[{name}].when: expected an object, got {raw!r}")
    unknown = set(raw) - {"source", "once", "each", "interval", "timeout"}
    if unknown:
        raise ConfigError(f"job[{name}].when: unknown field(s) {sorted(unknown)}")
    if "timeout" in raw:
        raise ConfigError(f"job[{name}].when.timeout is not supported by the harness")
    chosen = [key for key in ("interval", "once", "each") if raw.get(key) not in (None, "")]
    if len(chosen) > 1:
        raise ConfigError(f"job[{name}].when can have only one of 'interval', 'once', or 'each'")
    if chosen == ["interval"]:
        interval = parse_duration(raw["interval"], f"job[{name}].when.interval")
        if interval < 0.001:
            raise ConfigError(f"job[{name}].when.interval cannot be less than 1ms")
        return When(interval=interval)
    source = raw.get("source")
    if not isinstance(source, str) or not source:
        raise ConfigError(f"job[{name}].when.source: expected a job name, got {source!r}")
    if not chosen:
        raise ConfigError(f"job[{name}].when needs one of 'interval', 'once', or 'each'")
    event = raw[chosen[0]]
    if event not in JOB_EVENTS:
        raise ConfigError(
            f"job[{name}].when.{chosen[0]}: unknown event {event!r} (known: {sorted(JOB_EVENTS)})"
        )
    return When(source=source, once=raw.get("once"), each=raw.get("each"))


def _restarts(raw: Any, name: str, when: When) -> Optional[int]:
    if raw is None:
        # Periodic jobs rerun forever unless the file says otherwise.
        return None if when.is_periodic else 0
    if raw == "unlimited":
        if when.each:
            raise ConfigError(f"job[{name}].restarts 'unlimited' may not be used with when.each")
        return None
    if raw == "never":
        return 0
    if isinstance(raw, bool):
        raise ConfigError(f"job[{name}].restarts: invalid {raw!r}")
    if isinstance(raw, int) and raw >= 0:
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    raise ConfigError(
        f'job[{name}].restarts: invalid {raw!r}; accepts positive integers, "unlimited", or "never"'
    )


def _raw_logging(raw: Any, what: str) -> bool:
    # jobs/config.go LoggingConfig: only `raw` is read.
    if raw is None:
        return False
    if not isinstance(raw, dict) or not isinstance(raw.get("raw", False), bool):
        raise ConfigError(f"{what}: expected {{raw: true|false}}, got {raw!r}")
    return raw.get("raw", False)


def _health(raw: Any, name: str) -> Optional[HealthSpec]:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"job[{name}].health: expected an object, got {raw!r}")
    if "exec" not in raw:
        raise ConfigError(f"job[{name}].health.exec is required by the harness")
    timeout = _optional_duration(raw.get("timeout"), f"job[{name}].health.timeout")
    interval = float(_whole_seconds(raw.get("interval"), f"job[{name}].health.interval"))
    return HealthSpec(
        exec=_argv(raw["exec"], f"job[{name}].health.exec"),
        interval=interval,
        ttl=float(_whole_seconds(raw.get("ttl"), f"job[{name}].health.ttl")),
        timeout=timeout if timeout is not None else interval,
        raw_log=_raw_logging(raw.get("logging"), f"job[{name}].health.logging"),
    )


def _port(raw: Any, name: str) -> Optional[int]:
    if raw is None or raw == 0:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 65536:
        raise ConfigError(f"job[{name}].port: expected a TCP port number, got {raw!r}")
    return raw


def job_spec(raw: Any, index: int) -> JobSpec:
    if not isinstance(raw, dict):
        raise ConfigError(f"jobs[{index}]: expected an object, got {raw!r}")
    exec_argv = _argv(raw["exec"], f"jobs[{index}].exec") if "exec" in raw else None
    name = raw.get("name") or (exec_argv[0] if exec_argv else None)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"jobs[{index}]: a job needs a name or an exec")
    when = _when(raw.get("when"), name)
    timeout = _optional_duration(raw.get("timeout"), f"job[{name}].timeout")
    if timeout is None and when.is_periodic:
        timeout = when.interval
    port = _port(raw.get("port"), name)
    health = _health(raw.get("health"), name)
    if port is not None and health is None:
        raise ConfigError(f"job[{name}].health must be set if 'port' is set")
    return JobSpec(
        name=name,
        exec=exec_argv,
        when=when,
        restarts=_restarts(raw.get("restarts"), name, when),
        port=port,
        health=health,
        timeout=timeout,
        stop_timeout=_optional_duration(raw.get("stopTimeout"), f"job[{name}].stopTimeout"),
        raw_log=_raw_logging(raw.get("logging"), f"job[{name}].logging"),
    )


def parse_config(text: str, environ: Mapping[str, str], origin: str = "<config>") -> ContainerPilotConfig:
    rendered = render_template(text, environ)
    try:
        document = json5.loads(rendered)
    except ValueError as error:
        raise ConfigError(f"{origin}: not valid JSON5 after rendering: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{origin}: expected an object at the top level")
    raw_jobs = document.get("jobs", [])
    if not isinstance(raw_jobs, list):
        raise ConfigError(f"{origin}: 'jobs' must be an array")
    jobs = tuple(job_spec(raw, index) for index, raw in enumerate(raw_jobs))
    names = [job.name for job in jobs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"{origin}: duplicate job names {duplicates}")
    for job in jobs:
        if job.when.source and job.when.source not in names:
            raise ConfigError(f"job[{job.name}].when.source: no job named {job.when.source!r}")
    logging = document.get("logging")
    level = logging.get("level") if isinstance(logging, dict) else None
    consul = document.get("consul")
    stop_timeout = document.get("stopTimeout", 0)
    if isinstance(stop_timeout, bool) or not isinstance(stop_timeout, int) or stop_timeout < 0:
        raise ConfigError(f"{origin}: stopTimeout must be whole seconds, got {stop_timeout!r}")
    return ContainerPilotConfig(
        consul=consul if isinstance(consul, str) else None,
        log_level=level if isinstance(level, str) else None,
        jobs=jobs,
        # config/config.go parseStopTimeout: 0 or absent means the default.
        stop_timeout=stop_timeout or DEFAULT_STOP_TIMEOUT,
    )


def load_config(path: Path, environ: Mapping[str, str]) -> ContainerPilotConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    try:
        return parse_config(text, environ, origin=str(path))
    except TemplateError as error:
        raise TemplateError(f"{path}: {error}") from None
