"""Partitions and faults (issue 15): each node in its own network namespace (netns.py), the
real hooks (.build/debug/redis-manage) run by the ContainerPilot stand-in, the Consul double
on the bridge. A sampler watches the whole run every 50 ms and writers on each side of the
cut count acknowledged writes; each scenario checks its invariants over the whole run and
appends its figures to CHAOS_RESULTS (RELIABILITY.md is made from them by `make chaos`).

Run as root: `make chaos` (everything), `make test-chaos` (the short CI subset, marker
chaos_ci). Without root they skip, unless CHAOS_REQUIRE_NETNS=1.

A cut node's Consul agent is cut off with it, as in a container: the double's agent is
killed (gossip marks the node failed after its failure detection, 5 s) and revived at the
heal with what its data dir kept. The double cannot keep a cut-off agent answering its own
node's hooks (README of Tests/doubles), so during a cut the node's hooks meet a refused
connection instead of the 500s a partitioned agent gives for forwarded calls.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

from chaos import PERIOD, ClusterSampler, Observation, Writer, lost_writes
from harness import REPO_ROOT, Cluster, Node, RedisManageHooks, wait_until
from netns import NetworkBed, nft_unavailable, root_connect

pytestmark = pytest.mark.chaos

SCALE = 0.2  # ContainerPilot's health every second instead of every 5 s
DOWN_AFTER_S = 5.0  # Sentinel's default down-after-milliseconds
MAX_LAG_S = 10  # MIN_REPLICAS_MAX_LAG's default
# Once a cut heals, every node must agree on one master within this (measured: see RELIABILITY.md).
CONVERGE_BOUND_S = 30.0
# What a healed cut adds to MIN_REPLICAS_MAX_LAG before the master refuses writes: replicas
# acknowledge every second, and the writer's and the sampler's own periods.
LAG_SLACK_S = 2.0
RESULTS = Path(os.environ.get("CHAOS_RESULTS", REPO_ROOT / ".build-chaos" / "results.jsonl"))


@dataclass
class Row:
    scenario: str
    cut: str
    duration_s: float
    failover_s: Optional[float]
    consul_converge_s: Optional[float]
    acked: int
    lost: int
    min_replicas_to_write: int
    consul_overlap_s: float
    redis_overlap_s: float
    date: str


def record(row: Row) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as results:
        results.write(json.dumps(asdict(row)) + "\n")
    print(f"\nchaos figures: {json.dumps(asdict(row))}")


def chaos_env(min_replicas: int) -> dict[str, str]:
    return {
        "SENTINEL_DOWN_AFTER": f"{int(DOWN_AFTER_S * 1000)}ms",
        "REDIS_TIMEOUT": "1s",
        "FAILOVER_WAIT_TIMEOUT": "15s",
        "MIN_REPLICAS_TO_WRITE": str(min_replicas),
        "MIN_REPLICAS_MAX_LAG": f"{MAX_LAG_S}s",
    }


@pytest.fixture
def chaos_cluster(network_bed: NetworkBed, cluster_factory: Callable[..., Cluster]) -> Callable[..., Cluster]:
    """make(min_replicas) -> three started nodes in their namespaces, settled: one passing
    redis, two passing redis-replica, three sentinels that know each other and both replicas.
    network_bed comes first, so it is torn down last, after every process."""

    def make(min_replicas: int = 0, size: int = 3) -> Cluster:
        cluster = cluster_factory(size=size, hooks=RedisManageHooks(), interval_scale=SCALE,
                                  extra_env=chaos_env(min_replicas), network=network_bed)
        cluster.start()
        settle(cluster, size)
        return cluster

    return make


def settle(cluster: Cluster, size: int, timeout: float = 90) -> Node:
    def settled() -> Optional[Node]:
        master = cluster.consul_master()
        replicas = cluster.passing("redis-replica")
        views = cluster.sentinel_views()
        if len(replicas) != size - 1 or len(views) != size:
            return None
        if all(v.master == (master.address, 6379) and v.replicas == size - 1 and v.other_sentinels == size - 1
               for v in views.values()):
            return master
        return None

    return wait_until(settled, timeout, "the cluster settles: one master, replicas and sentinels agree",
                      interval=0.5, describe=cluster.describe)


def consul_single_master(sampler: ClusterSampler) -> Callable[[], Optional[str]]:
    def target() -> Optional[str]:
        if not sampler.observations:
            return None
        masters = sampler.observations[-1].consul_masters
        return masters[0] if masters and len(masters) == 1 else None
    return target


def two_in_consul(observation: Observation) -> bool:
    return observation.consul_masters is not None and len(observation.consul_masters) > 1


def two_writable(observation: Observation) -> bool:
    return len(observation.writable()) > 1


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def wait_converged(sampler: ClusterSampler, cluster: Cluster, after: float, timeout: float,
                   master: Optional[str] = None) -> Observation:
    names = [node.name for node in cluster.nodes]

    def converged() -> Optional[Observation]:
        for observation in sampler.between(after):
            candidates = [master] if master else list(observation.consul_masters or [])[:1]
            if candidates and sampler.converged(observation, candidates[0], names):
                return observation
        return None

    return wait_until(converged, timeout, "every node agrees on one master", interval=0.2,
                      describe=lambda: f"{cluster.describe()}\nlast: {sampler.observations[-1:]}")


# --- 1. the master cut off from everyone --------------------------------------------------


def master_cut_off(network_bed: NetworkBed, chaos_cluster: Callable[..., Cluster], min_replicas: int,
                   cut_s: float, name: str) -> Row:
    cluster = chaos_cluster(min_replicas)
    old = cluster.consul_master()
    with ClusterSampler(cluster) as sampler:
        minority = Writer("minority", cluster, network_bed.connector(old.name), lambda: old.address)
        majority = Writer("majority", cluster, root_connect, consul_single_master(sampler))
        with minority, majority:
            time.sleep(2)
            cut_at = time.time()
            network_bed.cut(old.name)
            old.lose_agent()
            time.sleep(cut_s)
            healed_at = time.time()
            network_bed.heal(old.name)
            old.regain_agent()
            settled = wait_converged(sampler, cluster, healed_at, CONVERGE_BOUND_S + 30)
            time.sleep(1)
    new = cluster.consul_master()
    assert new is not old, "no failover happened while the master was cut off"
    wait_until(lambda: old.role() == "slave", 10, f"the old master {old.name} is a replica")
    wait_until(lambda: old.address in [i.address for i in cluster.passing("redis-replica")], 30,
               f"Consul lists the old master {old.name} as a passing redis-replica", describe=cluster.describe)
    replica_listed_at = time.time()

    others = [n.name for n in cluster.nodes if n is not old]
    failover = sampler.first(lambda o: all(o.sentinel_masters.get(n) == new.address for n in others), cut_at)
    acks = minority.acks + majority.acks
    lost = lost_writes(cluster, new.address, acks)
    converge_s = settled.at - healed_at
    consul_overlap = sampler.longest(two_in_consul)
    redis_overlap = sampler.longest(two_writable)
    row = Row(scenario=name, cut=f"master {old.name} from every node and its Consul agent",
              duration_s=round(healed_at - cut_at, 1),
              failover_s=round(failover.at - cut_at, 1) if failover else None,
              consul_converge_s=round(max(converge_s, replica_listed_at - healed_at), 1),
              acked=len(acks), lost=len(lost), min_replicas_to_write=min_replicas,
              consul_overlap_s=round(consul_overlap, 2), redis_overlap_s=round(redis_overlap, 2), date=today())
    record(row)

    assert failover is not None, "the other sentinels never named a new master"
    assert converge_s <= CONVERGE_BOUND_S, f"converged {converge_s:.1f}s after the heal (bound {CONVERGE_BOUND_S}s)"
    assert consul_overlap == 0, f"Consul listed two passing redis for {consul_overlap:.2f}s"
    if min_replicas:
        late = [ack for ack in lost if ack.at > cut_at + MAX_LAG_S + LAG_SLACK_S]
        assert not late, (f"{len(late)} acknowledged writes lost beyond MIN_REPLICAS_MAX_LAG's window, "
                          f"the last {late[-1].at - cut_at:.1f}s after the cut")
        assert redis_overlap <= MAX_LAG_S + LAG_SLACK_S, f"two masters took writes for {redis_overlap:.1f}s"
    return row


@pytest.mark.chaos_ci
def test_master_cut_off_with_min_replicas_loses_only_the_lag_window(network_bed, chaos_cluster) -> None:
    master_cut_off(network_bed, chaos_cluster, min_replicas=1, cut_s=30, name="1a master cut off, MIN_REPLICAS_TO_WRITE=1")


def test_master_cut_off_without_min_replicas_loss_is_measured(network_bed, chaos_cluster) -> None:
    master_cut_off(network_bed, chaos_cluster, min_replicas=0, cut_s=30, name="1b master cut off, MIN_REPLICAS_TO_WRITE=0")
