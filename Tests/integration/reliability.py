"""Writes RELIABILITY.md from the figures the chaos scenarios appended to CHAOS_RESULTS
(test_chaos.py), one row per scenario, the last run of each.

    python3 Tests/integration/reliability.py [RESULTS.jsonl] [RELIABILITY.md]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = REPO_ROOT / ".build-chaos" / "results.jsonl"
DEFAULT_OUTPUT = REPO_ROOT / "RELIABILITY.md"

HEADER = """# Reliability under partitions and faults

Made by `make chaos` (Tests/integration/test_chaos.py, issue 15) from its last run; do not
edit by hand. Three nodes, each in its own network namespace on a test bridge
(10.213.0.0/24), each running the real hooks (`redis-manage`) under the ContainerPilot
stand-in, with Debian's Redis 7.0 and Sentinel; the Consul double on the bridge with
Consul's own timing (gossip marks a lost agent's node failed after 5 s). ContainerPilot's
health interval is 1 s (the json5's 5 s scaled by 0.2); Sentinel's `down-after` is 5 s,
`HEALTH_TTL` 25 s, `MIN_REPLICAS_MAX_LAG` 10 s. A sampler reads every 50 ms who Consul lists
as passing `redis`, the master each sentinel names, and which nodes take a write; writers
on each side of the cut write a new key every 20 ms and count the acknowledged ones.

A cut node still reaches its own Consul agent, and that agent is cut off from the Consul
servers with it (the double's partition: forwarded calls fail, nothing syncs, gossip fails
the node after 5 s; at the heal its full sync sends what it holds then). Columns:

- **failover**: from the cut (or kill) until every sentinel of the majority names the new master;
- **converge**: from the heal until Consul lists only one master, every sentinel names it and
  only it takes writes;
- **Consul right**: from the heal until Consul lists every node in its role again (the old
  master as a passing `redis-replica`, a lost master as `redis`);
- **lost**: acknowledged writes the final master does not have, of all acknowledged;
- **two masters**: the longest time two nodes were listed as passing `redis` in Consul, and
  the longest time two nodes took writes;
- **replica as redis**: the longest time Consul listed as `redis` a node that refused
  writes as a replica;
- **no master in Consul**: the longest time Consul listed no passing `redis` at all.

Not in the table, pass or fail only (`test_chaos_backup.py`): the backup hook stopped with
SIGTERM or SIGKILL in the middle of an upload to a slow Manta leaves no object in the store,
no backup key in Consul and no partial file on the node.

| scenario | what was cut | for | failover | converge | Consul right | lost / acknowledged | `MIN_REPLICAS_TO_WRITE` | two masters in Consul | two masters in Redis | replica as redis | no master in Consul | run |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def seconds(value: object) -> str:
    return "n/a" if value is None else f"{value:g} s"


def render(rows: list[dict]) -> str:
    latest: dict[str, dict] = {}
    for row in rows:
        latest[row["scenario"]] = row
    lines = [HEADER.rstrip("\n")]
    for name in sorted(latest):
        row = latest[name]
        lines.append(" | ".join([
            f"| {row['scenario']}", row["cut"], seconds(row["duration_s"]), seconds(row["failover_s"]),
            seconds(row["converge_s"]), seconds(row["consul_converge_s"]), f"{row['lost']} / {row['acked']}",
            str(row["min_replicas_to_write"]), seconds(row["consul_overlap_s"]), seconds(row["redis_overlap_s"]),
            seconds(row["consul_names_replica_s"]), seconds(row["consul_no_master_s"]), f"{row['date']} |"]))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    results = Path(argv[1]) if len(argv) > 1 else DEFAULT_RESULTS
    output = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    if not results.is_file():
        print(f"no chaos results at {results}: run the chaos scenarios first (make chaos)", file=sys.stderr)
        return 1
    rows = []
    for number, line in enumerate(results.read_text().splitlines(), 1):
        try:
            rows.append(json.loads(line))
        except ValueError as error:
            print(f"{results}:{number}: not JSON: {error}", file=sys.stderr)
            return 1
    output.write_text(render(rows))
    print(f"wrote {output} ({len({r['scenario'] for r in rows})} scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
