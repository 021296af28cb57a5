"""Benchmarks of redis-manage on real redis-server and redis-sentinel processes.

Run with `make bench` (after `make release`): it writes BENCHMARKS.md. Each section is a
function that returns its lines of Markdown, so a run can be limited to some sections:
`python3 Tests/bench/bench.py --only health bootstrap`. Sections measured in this run
replace those of the same title in the file; the others, measured earlier or written by
hand (the reading of the figures), are kept where they are.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(REPO_ROOT / "Tests" / "integration"))

import signal  # noqa: E402

import resp  # noqa: E402
from harness import Cluster, RedisManageHooks, wait_until  # noqa: E402
from manta import MantaDouble  # noqa: E402
from sampling import BackgroundLoop, ConsulSampler, switch_master_times  # noqa: E402

# What a section found wrong; main reports it and exits 1 once the figures are written.
FAILURES: list[str] = []
RELEASE_BIN = REPO_ROOT / ".build" / "release"
QUIET = {"LOG_LEVEL": "WARN"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def wall_times(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Milliseconds per run; every run must succeed, or the figure would flatter a failure."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        if result.returncode != 0:
            raise RuntimeError(f"{argv} exited {result.returncode}: {result.stderr.decode(errors='replace')[-500:]}")
    return times


def cpu_ms_per_run(argv: list[str], env: dict[str, str], runs: int) -> float:
    """User plus system CPU milliseconds per run, from the children's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000 / runs


def peak_rss_kib(argv: list[str], env: dict[str, str], runs: int) -> list[int]:
    peaks = []
    for _ in range(runs):
        result = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, timeout=30, check=True)
        peaks.append(int(result.stderr.decode().strip().splitlines()[-1]))
    return peaks


def healthy_cluster(workdir: Path, size: int = 3, extra_env: dict[str, str] | None = None) -> Cluster:
    cluster = Cluster(workdir, size=size, hooks=RedisManageHooks(RELEASE_BIN), extra_env={**QUIET, **(extra_env or {})})
    cluster.start()
    wait_for_health(cluster, size)
    return cluster


def wait_for_health(cluster: Cluster, size: int, timeout: float = 60) -> None:
    def ready() -> bool:
        return (len(cluster.passing("redis")) == 1 and len(cluster.passing("redis-replica")) == size - 1
                and len(cluster.passing("redis-sentinel")) == size)
    wait_until(ready, timeout, f"{size} nodes healthy in Consul", describe=cluster.describe)


def bench_health(runs: int) -> list[str]:
    lines = ["## `health` on a steady node", "",
             f"{runs} sequential runs of `redis-manage health` (release build) per role on a healthy 3-node cluster, "
             f"beside `redis-cli PING` against the same Redis in the same run (the floor: one process start and one "
             f"round trip). Wall time per run in milliseconds; peak RSS from `/usr/bin/time -f %M`.", "",
             "| what | median ms | p95 ms | peak RSS KiB (median / max) |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp:
        cluster = healthy_cluster(Path(tmp))
        try:
            master = cluster.consul_master()
            replica = next(node for node in cluster.nodes if node is not master)
            for label, node in (("master", master), ("replica", replica)):
                env = node.env()
                health = wall_times(["redis-manage", "health"], env, runs)
                ping = wall_times(["redis-cli", "-p", str(node.redis_port), "PING"], env, runs)
                rss = peak_rss_kib(["redis-manage", "health"], env, runs)
                ping_rss = peak_rss_kib(["redis-cli", "-p", str(node.redis_port), "PING"], env, runs)
                ratio = statistics.median(health) / statistics.median(ping)
                lines.append(f"| `health` on the {label} | {statistics.median(health):.1f} | {percentile(health, 0.95):.1f} "
                             f"| {statistics.median(rss):.0f} / {max(rss)} |")
                lines.append(f"| `redis-cli PING` ({label}) | {statistics.median(ping):.1f} | {percentile(ping, 0.95):.1f} "
                             f"| {statistics.median(ping_rss):.0f} / {max(ping_rss)} |")
                lines.append(f"| ratio of medians ({label}) | {ratio:.2f}x | | |")
                cpu = cpu_ms_per_run(["redis-manage", "health"], env, runs)
                lines.append(f"| CPU of `health` on the {label} (user + system) | {cpu:.1f} ms per run | "
                             f"{cpu * 3600 / 5 / 1000:.1f} s per hour at the 5 s interval | |")
        finally:
            cluster.teardown()
    return lines + [""]


def bench_bootstrap(trials: int) -> list[str]:
    lines = ["## Bootstrap", "",
             f"From starting 3 fresh nodes at once to 1 passing `redis`, 2 passing `redis-replica` and 3 passing "
             f"`redis-sentinel` in Consul; {trials} trials, with the intervals of `etc/containerpilot.json5`: onStart "
             f"waits for the agent's first health run (2 s), the replicas follow the bootstrap lock's holder as soon "
             f"as it answers as master, and each node registers at the redis job's first health run, which "
             f"ContainerPilot times from its own start (5 s).", "",
             "| trial | seconds |", "|---|---|"]
    seconds = []
    for trial in range(1, trials + 1):
        with tempfile.TemporaryDirectory(prefix="bench-bootstrap-") as tmp:
            cluster = Cluster(Path(tmp), size=3, hooks=RedisManageHooks(RELEASE_BIN), extra_env=QUIET)
            started = time.perf_counter()
            try:
                cluster.start()
                wait_for_health(cluster, 3)
                seconds.append(time.perf_counter() - started)
            finally:
                cluster.teardown()
        lines.append(f"| {trial} | {seconds[-1]:.2f} |")
    lines.append(f"| median | {statistics.median(seconds):.2f} |")
    return lines + [""]


def failover_trial(workdir: Path, down_after_ms: int) -> tuple[float, float]:
    """Seconds from freezing the master's redis-server to Sentinel's first `+switch-master`
    and to Consul's passing `redis` naming the new master. The server is frozen (SIGSTOP),
    not killed: ContainerPilot would restart a killed one before Sentinel noticed."""
    cluster = healthy_cluster(workdir, extra_env={"SENTINEL_DOWN_AFTER": f"{down_after_ms}ms", "REDIS_TIMEOUT": "1s"})
    try:
        old = cluster.consul_master()
        wait_until(lambda: all(view.replicas == 2 and view.other_sentinels == 2
                               for view in cluster.sentinel_views().values()), 40,
                   "every sentinel knows 2 replicas and 2 other sentinels", describe=cluster.describe)
        with ConsulSampler(cluster) as sampler:
            frozen_at = time.time()
            old.kill_job_process("redis", signal.SIGSTOP)
            moved = wait_until(
                lambda: sampler.first(lambda s: len(s.masters) == 1 and s.masters[0] != old.redis_port, after=frozen_at),
                down_after_ms / 1000 + 30, "Consul names a new master", describe=cluster.describe)
            switches = wait_until(lambda: switch_master_times(cluster, moved.masters[0], frozen_at), 10,
                                  "a sentinel logged +switch-master")
        old.kill_job_process("redis", signal.SIGKILL)
        return switches[0] - frozen_at, moved.at - frozen_at
    finally:
        cluster.teardown()


def bench_failover(trials: int) -> list[str]:
    lines = ["## Failover convergence", "",
             f"The master's redis-server is frozen (SIGSTOP) on a healthy 3-node cluster; {trials} trials per "
             f"`SENTINEL_DOWN_AFTER`. Sentinel's time is its first `+switch-master` log line; Consul's is the first "
             f"50 ms sample whose only passing `redis` is the new master.", "",
             "| down-after | kill -> +switch-master (median s) | kill -> Consul (median s) | Consul after Sentinel (median ms, max ms) |",
             "|---|---|---|---|"]
    for down_after_ms in (1000, 5000):
        sentinel, consul = [], []
        for _ in range(trials):
            with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp:
                switched, moved = failover_trial(Path(tmp), down_after_ms)
            sentinel.append(switched)
            consul.append(moved)
        lags = [(c - s) * 1000 for s, c in zip(sentinel, consul)]
        lines.append(f"| {down_after_ms} ms | {statistics.median(sentinel):.2f} | {statistics.median(consul):.2f} "
                     f"| {statistics.median(lags):.0f}, {max(lags):.0f} |")
    return lines + [""]


class WriteProbe(BackgroundLoop):
    """Tries a SET on every node's redis-server every ~50 ms in a thread and keeps the
    samples where more than one accepted it: two masters taking writes, which a failover
    must never produce. A frozen server times out (200 ms) and counts as not accepting."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.samples = 0
        self.doubles: list[tuple[float, list[str]]] = []
        self.accepted: list[tuple[float, list[str]]] = []
        self._start_loop("write-probe")

    def _run(self) -> None:
        while not self._stop.is_set():
            at = time.time()
            accepted = []
            for node in self.cluster.nodes:
                try:
                    resp.command(node.redis_port, "SET", "bench:probe", str(at), timeout=0.2)
                    accepted.append(node.name)
                except (resp.RedisConnectionError, resp.RedisReplyError, OSError):
                    pass
            self.samples += 1
            self.accepted.append((at, accepted))
            if len(accepted) > 1:
                self.doubles.append((at, accepted))
            self._stop.wait(0.05)


def following(node, master_port: int) -> bool:
    """The node is a replica of `master_port` with its replication link up."""
    try:
        fields = resp.info(node.redis_port, timeout=0.5)
    except (resp.RedisConnectionError, resp.RedisReplyError, OSError):
        return False
    return (fields.get("role") == "slave" and fields.get("master_link_status") == "up"
            and fields.get("master_port") == str(master_port))


SENTINEL_EVENT = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) \[redis-sentinel\] .*(\+sdown|\+odown) master mymaster \S+ (\d+)")


def sentinel_event_at(cluster: Cluster, event: str, port: int, after: float) -> float | None:
    """When a sentinel first logged `event` (`+sdown`, `+odown`) for the master on `port`
    after `after`, from the harness's time of day stamps on each node log line."""
    day = datetime.datetime.fromtimestamp(after).replace(hour=0, minute=0, second=0, microsecond=0)
    found = []
    for node in cluster.nodes:
        for line in node.log_path.read_text(errors="replace").splitlines():
            match = SENTINEL_EVENT.match(line)
            if not match or match.group(5) != event or int(match.group(6)) != port:
                continue
            hours, minutes, seconds, millis = (int(match.group(i)) for i in range(1, 5))
            stamp = (day + datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds, milliseconds=millis)).timestamp()
            if stamp < after - 43200:
                stamp += 86400
            if stamp >= after:
                found.append(stamp)
    return min(found) if found else None


def failover_kill_trial(workdir: Path, down_after_ms: int, kill_at: str) -> dict:
    """A hung master killed: its redis-server is frozen (SIGSTOP), then killed with SIGKILL,
    either as soon as `SENTINEL_DOWN_AFTER` has passed (`kill_at="down-after"`) or once a
    sentinel has logged `+odown` for it (`"odown"`: the sentinels agree it is down), and
    restarted at once by its job as ContainerPilot restarts it (`restarts: "unlimited"`,
    the same `startRedis` command line). Seconds from the freeze to Sentinel's first
    `+switch-master` and to Consul's only passing `redis` being the new master, and from
    the kill to the old master replicating the new one; or, when the restarted server
    answered before the sentinels failed over, from the kill to it taking writes again."""
    cluster = healthy_cluster(workdir, extra_env={"SENTINEL_DOWN_AFTER": f"{down_after_ms}ms", "REDIS_TIMEOUT": "1s"})
    try:
        old = cluster.consul_master()
        starts = old.job_starts("redis")
        wait_until(lambda: all(view.replicas == 2 and view.other_sentinels == 2
                               for view in cluster.sentinel_views().values()), 40,
                   "every sentinel knows 2 replicas and 2 other sentinels", describe=cluster.describe)
        result: dict = {}
        with ConsulSampler(cluster) as sampler, WriteProbe(cluster) as probe:
            frozen_at = time.time()
            old.kill_job_process("redis", signal.SIGSTOP)
            if kill_at == "odown":
                wait_until(lambda: sentinel_event_at(cluster, "+odown", old.redis_port, frozen_at), down_after_ms / 1000 + 20,
                           "a sentinel logged +odown for the frozen master", interval=0.02, describe=cluster.describe)
            else:
                time.sleep(max(0.0, frozen_at + down_after_ms / 1000 - time.time()))
            killed_at = time.time()
            old.kill_job_process("redis", signal.SIGKILL)

            def settled():
                moved = sampler.first(lambda s: len(s.masters) == 1 and s.masters[0] != old.redis_port, after=frozen_at)
                if moved:
                    return ("failover", moved)
                kept = [at for at, accepted in probe.accepted if at > killed_at and old.name in accepted]
                if time.time() > killed_at + 20 and kept and all(
                        master == ("127.0.0.1", old.redis_port) for master in cluster.sentinel_masters().values()):
                    return ("kept", kept[0])
                return None
            outcome, seen = wait_until(settled, down_after_ms / 1000 + 40, "Consul names a new master, or the "
                                       "restarted master is back and the sentinels still name it", describe=cluster.describe)
            result["outcome"] = outcome
            wait_until(lambda: old.job_starts("redis") > starts, 15, f"the job restarted {old.name}'s redis-server",
                       describe=cluster.describe)
            if outcome == "failover":
                switches = wait_until(lambda: switch_master_times(cluster, seen.masters[0], frozen_at), 10,
                                      "a sentinel logged +switch-master")

                def now_following() -> float | None:
                    # The master Consul names now: a second failover may follow the first.
                    latest = sampler.samples[-1].masters
                    return time.time() if len(latest) == 1 and following(old, latest[0]) else None
                replicating = wait_until(now_following, 60, f"the restarted {old.name} replicates the new master",
                                         interval=0.05, describe=cluster.describe)
                result["masters"] = len({tuple(s.masters) for s in sampler.samples if s.at >= frozen_at and len(s.masters) == 1})
                result.update(switch=switches[0] - frozen_at, consul=seen.at - frozen_at,
                              lag_ms=(seen.at - switches[0]) * 1000, back=replicating - killed_at)
            else:
                result.update(back=seen - killed_at)
            result["sdown"] = sentinel_event_at(cluster, "+sdown", old.redis_port, frozen_at)
            result["sdown"] = result["sdown"] - frozen_at if result["sdown"] else None
            result["killed"] = killed_at - frozen_at
            time.sleep(0.5)
        assert sampler.samples and probe.samples > 0, "the Consul sampler or the write probe took no sample"
        listed = [sample for sample in sampler.samples if len(sample.masters) > 1]
        result["consul_doubled"] = (len(listed), len(sampler.samples), listed[0].at - frozen_at if listed else None)
        result["probes"] = probe.samples
        result["doubled"] = probe.doubles[-1][0] - probe.doubles[0][0] + 0.05 if probe.doubles else None
        result["doubled_from"] = probe.doubles[0][0] - frozen_at if probe.doubles else None
        return result
    finally:
        cluster.teardown()


def bench_failover_kill(trials: int, down_after_ms: int) -> list[str]:
    lines = [f"## Failover by kill -9, down-after {down_after_ms} ms", "",
             f"The master's redis-server is frozen (SIGSTOP) on a healthy 3-node cluster with `SENTINEL_DOWN_AFTER` "
             f"{down_after_ms} ms, then killed (SIGKILL) and restarted at once by its job through `startRedis`, as "
             f"ContainerPilot's `restarts: \"unlimited\"` does: killed as soon as the down-after has passed, or once a "
             f"sentinel has logged `+odown` (the sentinels agree it is down); {trials} trials each. Sentinel's time is its "
             f"first `+switch-master` log line; Consul's is the first 50 ms sample whose only passing `redis` is the new "
             f"master; \"back\" is the first 50 ms sample where the restarted old master replicates the new one with its "
             f"link up (after a failover) or takes writes again (when it answered before the sentinels failed over). "
             f"Every trial tries a SET on every redis-server every 50 ms; the last column is how long two of them "
             f"accepted writes at the same time, and the last how many Consul samples listed two passing `redis`.", "",
             "| kill at | trial | outcome | kill (s after freeze) | freeze -> +switch-master s | freeze -> Consul s "
             "| Consul after Sentinel ms | kill -> back s | two masters took writes | two passing `redis` in Consul |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    doubled = []
    for kill_at in ("odown", "down-after"):
        results = []
        for trial in range(1, trials + 1):
            with tempfile.TemporaryDirectory(prefix="bench-failover-kill-") as tmp:
                r = failover_kill_trial(Path(tmp), down_after_ms, kill_at)
            results.append(r)
            failed_over = r["outcome"] == "failover"
            two = (f"**{r['doubled']:.2f} s**, from {r['doubled_from']:.2f} s after the freeze" if r["doubled"] is not None
                   else f"never ({r['probes']} probes)")
            count, samples, first = r["consul_doubled"]
            listed = f"**{count} of {samples} samples**, from {first:.2f} s" if count else f"never ({samples} samples)"
            outcome = "failover" if r.get("masters", 1) <= 2 else f"failover, then {r['masters'] - 2} more"
            lines.append(f"| {kill_at} | {trial} | {outcome if failed_over else 'no failover: back as master'} "
                         f"| {r['killed']:.2f} | {r['switch']:.2f} | {r['consul']:.2f} | {r['lag_ms']:.0f} | {r['back']:.2f} | {two} | {listed} |"
                         if failed_over else
                         f"| {kill_at} | {trial} | no failover: back as master | {r['killed']:.2f} | | | | {r['back']:.2f} | {two} | {listed} |")
            if r["doubled"] is not None or count:
                doubled.append(r)
        over = [r for r in results if r["outcome"] == "failover"]
        if over:
            lines.append(f"| {kill_at} | median of {len(over)} failovers | | | {statistics.median(r['switch'] for r in over):.2f} "
                         f"| {statistics.median(r['consul'] for r in over):.2f} "
                         f"| {statistics.median(r['lag_ms'] for r in over):.0f} (max {max(r['lag_ms'] for r in over):.0f}) "
                         f"| {statistics.median(r['back'] for r in over):.2f} | | |")
    if doubled:
        FAILURES.append(f"failover by kill -9: two masters (taking writes or passing in Consul) in {len(doubled)} of {2 * trials} trials")
        lines += ["", f"**Failed:** two masters, taking writes or passing as `redis` in Consul, in {len(doubled)} of "
                  f"{2 * trials} trials."]
    return lines + [""]


FIRST = ["ada", "bob", "chen", "dara", "eli", "fatima", "goran", "hana", "ivan", "jules", "kofi", "lena"]
CITIES = ["Lisbon", "Osaka", "Lagos", "Quito", "Oslo", "Perth", "Austin", "Delhi", "Cairo", "Lyon"]


def mixed_value(index: int, rng: random.Random) -> bytes:
    """About 1000 bytes in one of the shapes a cache or session store holds: a JSON
    document (repeated field names, numbers, words), random hex (tokens, hashes), or a
    run of counters; so the RDB compresses like real data, neither like zeros nor noise."""
    shape = index % 3
    if shape == 0:
        items = ",".join('{"sku":"SKU-%06d","qty":%d,"price":%d.%02d}'
                         % (rng.randrange(10**6), rng.randrange(1, 9), rng.randrange(500), rng.randrange(100))
                         for _ in range(rng.randrange(6, 12)))
        doc = ('{"id":%d,"user":"%s.%s@example.com","city":"%s","created":%d,"active":%s,"items":[%s],"note":"%s"}'
               % (index, rng.choice(FIRST), rng.choice(FIRST), rng.choice(CITIES), 1700000000 + rng.randrange(10**7),
                  rng.choice(["true", "false"]), items, os.urandom(24).hex()))
        return doc.encode()[:1000].ljust(1000, b" ")
    if shape == 1:
        return os.urandom(500).hex().encode()
    return b",".join(b"%d" % rng.randrange(10**rng.randrange(1, 10)) for _ in range(200))[:1000]


def fill(port: int, megabytes: int, workdir: Path) -> int:
    """Writes about `megabytes` of ~1000-byte string values (`mixed_value`) through
    `redis-cli --pipe`."""
    keys = megabytes * 1024 * 1024 // 1000
    rng = random.Random(17)
    commands = workdir / "fill.resp"
    with commands.open("wb") as out:
        for index in range(keys):
            key = b"key:%d" % index
            value = mixed_value(index, rng)
            out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
    with commands.open("rb") as source:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=source, stdout=subprocess.DEVNULL, check=True, timeout=600)
    commands.unlink()
    return keys


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB (of the process and the children it waited for), stdout."""
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], env=env, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{argv} exited {result.returncode}: {result.stdout[-800:]} {result.stderr[-400:]}")
    return elapsed, int(result.stderr.strip().splitlines()[-1]), result.stdout


STORED = re.compile(r"stored (dump-\S+\.rdb\.gz): .* in ([0-9.]+)s")


def backup_now(binary: str, env: dict[str, str], extra: dict[str, str]) -> tuple[float, int, str, float]:
    """`backup --now`: wall seconds, peak RSS KiB, the backup's name, and the seconds of
    its gzip-and-store pass from its own log line (the rest is BGSAVE and Consul)."""
    seconds, kib, output = timed([binary, "backup", "--now"], {**env, **extra, "LOG_LEVEL": "INFO"})
    stored = STORED.search(output)
    if stored is None:
        raise RuntimeError(f"backup --now logged no 'stored' line: {output[-800:]}")
    return seconds, kib, stored.group(1), float(stored.group(2))


def command_seconds(shell: str) -> float:
    started = time.perf_counter()
    subprocess.run(shell, shell=True, check=True, timeout=1800)
    return time.perf_counter() - started


def bench_backup(megabytes: int, baseline: Path | None) -> list[str]:
    """Backup with 1 and 2 deflate threads beside `gzip -c` and pigz on the same RDB, then
    restore; with `baseline` (the directory of an earlier release build) the earlier
    binary backs up and restores the same dataset in the same run ("before")."""
    lines = ["## Backup and restore", ""]
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        workdir = Path(tmp)
        cluster = healthy_cluster(workdir, size=1)
        try:
            node = cluster.nodes[0]
            keys = fill(node.redis_port, megabytes, workdir)
            info = node.redis("INFO", "memory")
            used = info.decode() if isinstance(info, bytes) else str(info)
            used_memory = next(line.split(":", 1)[1] for line in used.splitlines() if line.startswith("used_memory_human:"))
            env = node.env()
            runs: dict[str, tuple[float, int, str, float]] = {}
            if baseline is not None:
                runs["before"] = backup_now(str(baseline / "redis-manage"), env, {})
            for threads in (1, 2):
                runs[f"{threads}"] = backup_now("redis-manage", env, {"BACKUP_COMPRESSION_THREADS": str(threads)})
            rdb = node.data_dir / "dump.rdb"
            rdb_mib = rdb.stat().st_size / 1024 / 1024
            tools = {
                "`gzip -c` (level 6, the floor)": command_seconds(f"gzip -c {rdb} > /dev/null"),
                "`gzip -1 -c`": command_seconds(f"gzip -1 -c {rdb} > /dev/null"),
                "`pigz -p 2 -c` (level 6)": command_seconds(f"pigz -p 2 -c {rdb} > /dev/null"),
                "`pigz -1 -p 2 -c`": command_seconds(f"pigz -1 -p 2 -c {rdb} > /dev/null"),
            }
            floor_s = tools["`gzip -c` (level 6, the floor)"]
            sizes = {label: (node.backup_dir / run[2]).stat().st_size / 1024 / 1024 for label, run in runs.items()}
            pigz_mib = int(subprocess.run(f"pigz -1 -p 2 -c {rdb} | wc -c", shell=True, check=True, capture_output=True,
                                          text=True).stdout) / 1024 / 1024
            new_name = runs["2"][2]
            dry = {"after": timed(["redis-manage", "restore", "--name", new_name, "--dry-run"], env)}
            if baseline is not None:
                dry["before"] = timed([str(baseline / "redis-manage"), "restore", "--name", runs["before"][2], "--dry-run"], env)
            # The agent stays: restore reads the backup's metadata from Consul.
            node.stop(stop_agent=False)
            restores = {}
            for label, binary, name in ([("before", str(baseline / "redis-manage"), runs["before"][2])] if baseline else []) + [
                    ("after", "redis-manage", new_name)]:
                for path in node.data_dir.iterdir():
                    subprocess.run(["rm", "-rf", str(path)], check=True)
                restores[label] = timed([binary, "restore", "--name", name], env)
        finally:
            cluster.teardown()
    lines += [f"{keys} keys of about 1000 bytes, a third each JSON documents, random hex and runs of decimal "
              f"counters (`mixed_value` in `Tests/bench/bench.py`; {used_memory.strip()} in Redis), RDB {rdb_mib:.0f} MiB, "
              f"local-directory store, release build, {os.cpu_count()} cores shared with other work (the tools ran in "
              f"the same run, on the same file, one after another). `backup --now` is BGSAVE, gzip, 2 x SHA-256 and the "
              f"store; its gzip-and-store pass is the time it logs for it. \"before\" is the previous release "
              f"(one thread, level 6). Peak RSS from `/usr/bin/time -f %M`: for `restore` it includes the temporary "
              f"redis-server that loads the RDB.", "",
              "| what | seconds | MiB/s of RDB | x `gzip -c` | output MiB | peak RSS MiB |", "|---|---|---|---|---|---|"]
    for label, title in (("before", "before: level 6, 1 thread"), ("1", "level 1, 1 thread"), ("2", "level 1, 2 threads")):
        if label not in runs:
            continue
        seconds, kib, _, stored_s = runs[label]
        lines.append(f"| `backup --now`, {title} | {seconds:.1f} | {rdb_mib / seconds:.0f} | {floor_s / seconds:.2f} "
                     f"| {sizes[label]:.0f} | {kib / 1024:.0f} |")
        lines.append(f"| its gzip-and-store pass | {stored_s:.1f} | {rdb_mib / stored_s:.0f} | {floor_s / stored_s:.2f} | | |")
    for label, seconds in tools.items():
        size = f"{pigz_mib:.0f}" if label == "`pigz -1 -p 2 -c`" else ""
        lines.append(f"| {label} | {seconds:.1f} | {rdb_mib / seconds:.0f} | {floor_s / seconds:.2f} | {size} | |")
    for label in ("before", "after"):
        if label in dry:
            seconds, kib, _ = dry[label]
            lines.append(f"| `restore --dry-run` (fetch, gunzip, verify), {label} | {seconds:.1f} | {rdb_mib / seconds:.0f} | | | {kib / 1024:.0f} |")
    for label in ("before", "after"):
        if label in restores:
            seconds, kib, _ = restores[label]
            lines.append(f"| `restore` (fetch, verify, load into AOF), {label} | {seconds:.1f} | {rdb_mib / seconds:.0f} | | | {kib / 1024:.0f} |")
    return lines + [""]


def bench_https_store(megabytes: int) -> list[str]:
    """Backup to and fetch from the Manta double over https: TLS throughput and whether a
    download held back by a slower sink stays in bounded memory."""
    lines = ["## Backup over https", ""]
    with tempfile.TemporaryDirectory(prefix="bench-https-") as tmp:
        workdir = Path(tmp)
        manta = MantaDouble(workdir)
        try:
            cluster = healthy_cluster(workdir, size=1, extra_env=manta.env())
            try:
                node = cluster.nodes[0]
                fill(node.redis_port, megabytes, workdir)
                env = node.env()
                backup_s, backup_kib, _ = timed(["redis-manage", "backup", "--now"], env)
                rdb_mib = (node.data_dir / "dump.rdb").stat().st_size / 1024 / 1024
                name = manta.names()[-1]
                gz_mib = (manta.root / "backup" / "stor" / "redis" / name).stat().st_size / 1024 / 1024
                dry_s, dry_kib, _ = timed(["redis-manage", "restore", "--name", name, "--dry-run"], env)
            finally:
                cluster.teardown()
        finally:
            manta.stop()
    lines += [f"The same kind of dataset (RDB {rdb_mib:.0f} MiB, gzip {gz_mib:.0f} MiB) to the Manta double "
              f"(`Tests/doubles/manta_double.py`, a Python process that checks every signature and the MD5) "
              f"over https on 127.0.0.1, TLS through OpenSSL 3, release build.", "",
              "| what | seconds | MiB/s of gzip on the wire | peak RSS MiB |", "|---|---|---|---|",
              f"| `backup --now` (BGSAVE, gzip, 2 x SHA-256, signed PUT over https) | {backup_s:.1f} | {gz_mib / backup_s:.0f} | {backup_kib / 1024:.0f} |",
              f"| `restore --dry-run` (signed GET over https, gunzip, verify) | {dry_s:.1f} | {gz_mib / dry_s:.0f} | {dry_kib / 1024:.0f} |", ""]
    return lines


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    return ["# Benchmarks", "", f"Measured on {os.cpu_count()} cores "
            f"({cpu}), {memory} of memory, {platform.system()} {platform.release()}, Redis {redis.removeprefix('v=')}, "
            f"Consul played by `Tests/doubles/consul_double.py` on the same host. Reproduce with `make bench`.", ""]


def split_sections(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The lines before the first `## ` heading, then each section as (heading, lines)."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line, [line]))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return preamble, sections


def merged(previous: str, preamble: list[str], measured: list[list[str]]) -> str:
    """`previous` with the measured sections in place of those of the same heading; a
    section it did not have goes after the last one replaced (else at the end)."""
    _, sections = split_sections(previous)
    fresh = {lines[0]: lines for lines in measured}
    body = [fresh.get(heading, lines) for heading, lines in sections]
    replaced = [index for index, (heading, _) in enumerate(sections) if heading in fresh]
    insert_at = replaced[-1] + 1 if replaced else len(body)
    known = {heading for heading, _ in sections}
    body[insert_at:insert_at] = [lines for heading, lines in fresh.items() if heading not in known]
    return "\n".join(preamble + [line for lines in body for line in lines]).rstrip("\n") + "\n"


SECTIONS: dict[str, Callable[[argparse.Namespace], list[str]]] = {
    "health": lambda args: bench_health(args.runs),
    "bootstrap": lambda args: bench_bootstrap(args.trials),
    "failover": lambda args: bench_failover(args.trials),
    "failover-kill": lambda args: bench_failover_kill(args.trials, args.down_after_ms),
    "backup": lambda args: bench_backup(args.megabytes, args.baseline),
    "https": lambda args: bench_https_store(args.megabytes),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="sections to run (default: all)")
    parser.add_argument("--runs", type=int, default=200, help="runs per health measurement")
    parser.add_argument("--trials", type=int, default=5, help="trials per cluster measurement")
    # 1320 MB of mixed_value strings make an RDB of about 1 GiB (Redis compresses them with LZF).
    parser.add_argument("--megabytes", type=int, default=1320, help="dataset size for the backup sections")
    parser.add_argument("--baseline", type=Path, help="directory of an earlier release build: the backup section "
                        "also measures it, in the same run, as \"before\"")
    parser.add_argument("--down-after-ms", type=int, default=1000, help="SENTINEL_DOWN_AFTER of the failover-kill section")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    if not (RELEASE_BIN / "redis-manage").exists():
        parser.error(f"{RELEASE_BIN / 'redis-manage'} is missing: run `make release` first")
    previous = args.output.read_text() if args.output.exists() else ""
    measured: list[list[str]] = []
    for name in args.only or list(SECTIONS):
        print(f"running {name}...", flush=True)
        lines = SECTIONS[name](args)
        lines[1:1] = ["", f"_Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}._"]
        measured.append(lines)
        # Written after every section, so a failure later keeps what was measured.
        args.output.write_text(merged(previous, machine(), measured))
    print(f"wrote {args.output}")
    for failure in FAILURES:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
