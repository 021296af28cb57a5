"""Benchmarks of redis-manage on real redis-server and redis-sentinel processes.

Run with `make bench` (after `make release`): it writes BENCHMARKS.md. Each section is a
function that returns its lines of Markdown, so a run can be limited to some sections:
`python3 Tests/bench/bench.py --only health bootstrap`. Sections measured in this run
replace those of the same title in the file; the others, measured earlier or written by
hand (the reading of the figures), are kept where they are.
"""

from __future__ import annotations

import argparse
import os
import platform
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

from harness import Cluster, RedisManageHooks, wait_until  # noqa: E402
from manta import MantaDouble  # noqa: E402
from sampling import ConsulSampler, switch_master_times  # noqa: E402

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


def fill(port: int, megabytes: int, workdir: Path) -> int:
    """Writes about `megabytes` of 1000-byte string values through `redis-cli --pipe`.
    The values are random hex, so neither the RDB's LZF nor gzip shrinks them to nothing."""
    keys = megabytes * 1024 * 1024 // 1000
    commands = workdir / "fill.resp"
    with commands.open("wb") as out:
        for index in range(keys):
            key = b"key:%d" % index
            value = os.urandom(500).hex().encode()
            out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1000\r\n%s\r\n" % (len(key), key, value))
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


def bench_backup(megabytes: int) -> list[str]:
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
            backup_s, backup_kib, _ = timed(["redis-manage", "backup", "--now"], env)
            rdb = node.data_dir / "dump.rdb"
            rdb_mib = rdb.stat().st_size / 1024 / 1024
            floor_started = time.perf_counter()
            subprocess.run(f"gzip -c {rdb} > /dev/null", shell=True, check=True)
            floor_s = time.perf_counter() - floor_started
            name = max(path.name for path in node.backup_dir.iterdir() if path.name.startswith("dump-"))
            gz_mib = (node.backup_dir / name).stat().st_size / 1024 / 1024
            dry_s, dry_kib, _ = timed(["redis-manage", "restore", "--name", name, "--dry-run"], env)
            # The agent stays: restore reads the backup's metadata from Consul.
            node.stop(stop_agent=False)
            for path in node.data_dir.iterdir():
                subprocess.run(["rm", "-rf", str(path)], check=True)
            restore_s, restore_kib, _ = timed(["redis-manage", "restore", "--name", name], env)
        finally:
            cluster.teardown()
    lines += [f"{keys} keys of 1000-byte strings ({used_memory.strip()} in Redis), RDB {rdb_mib:.0f} MiB, "
              f"gzip {gz_mib:.0f} MiB, local-directory store, release build. Peak RSS from `/usr/bin/time -f %M`: "
              f"for `restore` it includes the temporary redis-server that loads the RDB.", "",
              "| what | seconds | MiB/s of RDB | peak RSS MiB |", "|---|---|---|---|",
              f"| `backup --now` (BGSAVE, gzip, 2 x SHA-256, store) | {backup_s:.1f} | {rdb_mib / backup_s:.0f} | {backup_kib / 1024:.0f} |",
              f"| `gzip -c dump.rdb > /dev/null` (the floor) | {floor_s:.1f} | {rdb_mib / floor_s:.0f} | |",
              f"| `restore --dry-run` (fetch, gunzip, verify) | {dry_s:.1f} | {rdb_mib / dry_s:.0f} | {dry_kib / 1024:.0f} |",
              f"| `restore` (fetch, verify, load into AOF) | {restore_s:.1f} | {rdb_mib / restore_s:.0f} | {restore_kib / 1024:.0f} |", ""]
    return lines


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
    "backup": lambda args: bench_backup(args.megabytes),
    "https": lambda args: bench_https_store(args.megabytes),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="sections to run (default: all)")
    parser.add_argument("--runs", type=int, default=200, help="runs per health measurement")
    parser.add_argument("--trials", type=int, default=5, help="trials per cluster measurement")
    parser.add_argument("--megabytes", type=int, default=1024, help="dataset size for the backup section")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
