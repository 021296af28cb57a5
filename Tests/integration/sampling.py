"""Watching a cluster change: Consul sampled in the background, and the moments the
sentinels logged a switch of master. Shared by the lifecycle scenarios and the benchmarks."""

from __future__ import annotations

import datetime
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from consul_http import ConsulHTTPError
from harness import Cluster, HarnessError


class BackgroundLoop:
    """Runs `_run` in a daemon thread for the length of a `with` block; `_run` returns once
    `_stop` is set."""

    def _start_loop(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def passing_ports(cluster: Cluster, service: str) -> list[int]:
    return sorted(instance.port for instance in cluster.passing(service))


@dataclass
class Sample:
    at: float
    masters: list[int]
    replicas: list[int]


@dataclass
class ConsulSampler(BackgroundLoop):
    """Samples Consul's passing redis and redis-replica every ~50 ms in a thread."""

    cluster: Cluster
    period: float = 0.05
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._start_loop("consul-sampler")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(Sample(time.time(), passing_ports(self.cluster, "redis"),
                                           passing_ports(self.cluster, "redis-replica")))
            except (HarnessError, ConsulHTTPError) as error:
                self.errors.append(str(error))
            self._stop.wait(self.period)

    def first(self, predicate: Callable[[Sample], bool], after: float = 0.0) -> Optional[Sample]:
        return next((s for s in list(self.samples) if s.at >= after and predicate(s)), None)

    def assert_never_two_masters(self) -> None:
        assert self.samples, "the Consul sampler took no sample"
        doubles = [s for s in self.samples if len(s.masters) > 1]
        assert not doubles, (f"{len(doubles)} of {len(self.samples)} samples listed more than one passing "
                             f"redis, first at {doubles[0].at:.3f}: {doubles[0].masters}")


_STAMP = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) \[redis-sentinel\] .*\+switch-master (\S+) "
                    r"(\S+) (\d+) (\S+) (\d+)")


def switch_master_times(cluster: Cluster, to_port: int, after: float) -> list[float]:
    """Wall-clock times of the `+switch-master ... <to_port>` lines the sentinels logged
    after `after`, from the harness's time of day stamps on each node log line."""
    found = []
    day = datetime.datetime.fromtimestamp(after).replace(hour=0, minute=0, second=0, microsecond=0)
    for node in cluster.nodes:
        for line in node.log_path.read_text(errors="replace").splitlines():
            match = _STAMP.match(line)
            if not match or int(match.group(9)) != to_port:
                continue
            hours, minutes, seconds, millis = (int(match.group(i)) for i in range(1, 5))
            stamp = (day + datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds,
                                              milliseconds=millis)).timestamp()
            if stamp < after - 43200:  # the day turned between `after` and the line
                stamp += 86400
            if stamp >= after:
                found.append(stamp)
    return sorted(found)
