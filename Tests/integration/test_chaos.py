"""Partitions and faults (issue 15): each node in its own network namespace (netns.py), the
real hooks (.build/debug/redis-manage) run by the ContainerPilot stand-in, the Consul double
on the bridge. A sampler watches the whole run every 50 ms and writers on each side of the
cut count acknowledged writes; each scenario checks its invariants over the whole run and
appends its figures to CHAOS_RESULTS (RELIABILITY.md is made from them by `make chaos`).

Run as root: `make chaos` (everything), `make test-chaos` (the short CI subset, marker
chaos_ci). Without root they skip, unless CHAOS_REQUIRE_NETNS=1.

A cut node keeps reaching its own Consul agent, as a container does the agent it runs,
and that agent is cut off from the servers with it (the double's partition: its own API
answers, forwarded calls fail with 500, nothing it changes reaches the catalog, gossip
marks the node failed after 5 s; at the heal its full sync sends what it holds then).
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
import resp
from harness import MASTER_NAME, REPO_ROOT, Cluster, Node, RedisManageHooks, wait_until
from netns import NetworkBed, root_connect

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
    converge_s: Optional[float]
    consul_converge_s: Optional[float]
    acked: int
    lost: int
    min_replicas_to_write: int
    consul_overlap_s: float
    redis_overlap_s: float
    consul_names_replica_s: float
    consul_no_master_s: float
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


def consul_lists_none(observation: Observation) -> bool:
    return observation.consul_masters == ()


def consul_names_replica(cluster: Cluster) -> Callable[[Observation], bool]:
    """Consul lists as `redis` a node whose Redis refuses writes as a replica."""
    def check(observation: Observation) -> bool:
        return any(observation.writes.get(cluster.node_by_address(address).name) == "readonly"
                   for address in observation.consul_masters or ())
    return check


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
                   cut_s: float, name: str, consul_too: bool = True) -> Row:
    """`consul_too`: the node's agent is cut off from the servers with it; otherwise
    only the other nodes' addresses are dropped, and its agent stays in the cluster."""
    cluster = chaos_cluster(min_replicas)
    old = cluster.consul_master()
    with ClusterSampler(cluster) as sampler:
        minority = Writer("minority", cluster, network_bed.connector(old.name), lambda: old.address)
        majority = Writer("majority", cluster, root_connect, consul_single_master(sampler))
        with minority, majority:
            time.sleep(2)
            others = ", ".join(node.address for node in cluster.nodes if node is not old)
            cut_at = time.time()
            if consul_too:
                network_bed.isolate(old.name, old.agent_port)
                cluster.agents.partition_agent(old.name)
            else:
                network_bed.block(old.name, [f"output ip daddr {{ {others} }} drop",
                                             f"input ip saddr {{ {others} }} drop"])
            time.sleep(cut_s)
            healed_at = time.time()
            network_bed.unblock(old.name)
            if consul_too:
                cluster.agents.heal_agent(old.name)
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
    cut = ("the master's node from every other node, its Consul agent from the servers" if consul_too
           else "the master's node from every other node; its Consul agent still in the cluster")
    row = Row(scenario=name, cut=cut,
              duration_s=round(healed_at - cut_at, 1),
              failover_s=round(failover.at - cut_at, 1) if failover else None,
              converge_s=round(converge_s, 1),
              consul_converge_s=round(replica_listed_at - healed_at, 1),
              acked=len(acks), lost=len(lost), min_replicas_to_write=min_replicas,
              consul_overlap_s=round(consul_overlap, 2), redis_overlap_s=round(redis_overlap, 2),
              consul_names_replica_s=round(sampler.longest(consul_names_replica(cluster)), 2),
              consul_no_master_s=round(sampler.longest(consul_lists_none), 2), date=today())
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


def test_master_cut_off_from_redis_peers_but_not_consul(network_bed, chaos_cluster) -> None:
    """A partial partition: the master's node loses the other nodes (Redis and Sentinel)
    but still reaches its Consul agent, whose gossip goes another way. The majority fails
    over; the cut-off master must not stay listed as passing `redis` beside the new one."""
    master_cut_off(network_bed, chaos_cluster, min_replicas=1, cut_s=30,
                   name="1c master cut off from its peers, not from Consul", consul_too=False)


# --- 2. cuts that must not fail over ------------------------------------------------------


@dataclass
class Steady:
    """What a scenario without failover checks over its whole run."""

    row: Row
    sampler: ClusterSampler
    master: Node


def steady_through(network_bed: NetworkBed, cluster: Cluster, victim: Node, name: str, cut: str,
                   apply: Callable[[], None], undo: Callable[[], None], hold_s: float,
                   back_in_consul: Callable[[], bool], took_effect: Callable[[], None]) -> Steady:
    """Applies a fault to `victim` for `hold_s`, checks it `took_effect` (asserts), undoes
    it, and checks the master never changed: every sentinel, Consul and the writable node
    name the one master all along."""
    master = cluster.consul_master()
    with ClusterSampler(cluster) as sampler:
        inside = Writer("inside", cluster, network_bed.connector(victim.name), lambda: master.address)
        outside = Writer("outside", cluster, root_connect, consul_single_master(sampler))
        with inside, outside:
            time.sleep(2)
            cut_at = time.time()
            apply()
            time.sleep(hold_s)
            took_effect()
            healed_at = time.time()
            undo()
            wait_until(back_in_consul, CONVERGE_BOUND_S + 30, f"Consul is right again after the {cut}",
                       interval=0.1, describe=cluster.describe)
            consul_back_at = time.time()
            settled = wait_converged(sampler, cluster, healed_at, CONVERGE_BOUND_S + 30, master=master.address)
            time.sleep(1)
    acks = inside.acks + outside.acks
    lost = lost_writes(cluster, master.address, acks)
    run = sampler.between(cut_at)
    changed = [o for o in run if any(m not in (None, master.address) for m in o.sentinel_masters.values())]
    others_writable = [o for o in run if any(n != master.name for n in o.writable())]
    listed_other = [o for o in run if o.consul_masters and o.consul_masters != (master.address,)]
    row = Row(scenario=name, cut=cut, duration_s=round(healed_at - cut_at, 1), failover_s=None,
              converge_s=round(settled.at - healed_at, 1), consul_converge_s=round(consul_back_at - healed_at, 1),
              acked=len(acks), lost=len(lost), min_replicas_to_write=int(cluster.extra_env["MIN_REPLICAS_TO_WRITE"]),
              consul_overlap_s=round(sampler.longest(two_in_consul), 2),
              redis_overlap_s=round(sampler.longest(two_writable), 2),
              consul_names_replica_s=round(sampler.longest(consul_names_replica(cluster)), 2),
              consul_no_master_s=round(sampler.longest(consul_lists_none), 2), date=today())
    record(row)
    assert not changed, f"a sentinel named another master (no failover may happen): {changed[0]}"
    assert not others_writable, f"another node took writes: {others_writable[0]}"
    assert not listed_other, f"Consul listed another node as redis: {listed_other[0]}"
    assert not lost, f"{len(lost)} acknowledged writes lost, first {lost[0]}"
    assert row.converge_s <= CONVERGE_BOUND_S
    return Steady(row, sampler, master)


def passing_replica(cluster: Cluster, node: Node) -> Callable[[], bool]:
    return lambda: node.address in [i.address for i in cluster.passing("redis-replica")]


def out_of_consul(cluster: Cluster, node: Node) -> Callable[[], None]:
    def check() -> None:
        listed = [i.address for s in ("redis", "redis-replica") for i in cluster.passing(s)]
        assert node.address not in listed, f"Consul still lists the cut-off {node.name} as passing"
    return check


def sentinel_flags_master_down(network_bed: NetworkBed, node: Node) -> Callable[[], None]:
    """The node's own Sentinel, asked from inside its namespace, holds the master down."""
    def check() -> None:
        reply = resp.command(node.sentinel_port, "SENTINEL", "MASTER", MASTER_NAME, host=node.address,
                             connect=network_bed.connector(node.name))
        flags = resp.pairs(reply).get("flags", "")
        assert "s_down" in flags, f"the cut-off sentinel of {node.name} does not hold the master down: {flags}"
    return check


def passing_master(cluster: Cluster, node: Node) -> Callable[[], bool]:
    return lambda: [i.address for i in cluster.passing("redis")] == [node.address]


def test_replica_cut_off_and_healed(network_bed, chaos_cluster) -> None:
    cluster = chaos_cluster(min_replicas=1)
    replica = next(node for node in cluster.nodes if node is not cluster.consul_master())

    def cut() -> None:
        network_bed.isolate(replica.name, replica.agent_port)
        cluster.agents.partition_agent(replica.name)

    def heal() -> None:
        network_bed.unblock(replica.name)
        cluster.agents.heal_agent(replica.name)

    steady_through(network_bed, cluster, replica, "2a replica cut off",
                   "a replica's node from every other node, its Consul agent from the servers",
                   cut, heal, 30, passing_replica(cluster, replica), out_of_consul(cluster, replica))
    wait_until(lambda: replica.role() == "slave" and
               replica.redis("INFO", "replication").decode().count("master_link_status:up") == 1, 10,
               f"{replica.name} replicates again")


def test_sentinel_minority_cut_off_fails_nothing_over(network_bed, chaos_cluster) -> None:
    """One node's Sentinel loses the master and the other sentinels (its replica's link goes
    with it: both share the node's address). One sentinel out of three is below the quorum
    of 2, so it may flag the master down but never fail it over."""
    cluster = chaos_cluster(min_replicas=1)
    master = cluster.consul_master()
    replica = next(node for node in cluster.nodes if node is not master)
    others = ", ".join(node.address for node in cluster.nodes if node is not replica)
    rules = [f"output ip daddr {{ {others} }} tcp dport {{ 6379, 26379 }} drop",
             f"input ip saddr {{ {others} }} tcp dport 26379 drop"]
    steady_through(network_bed, cluster, replica, "2b sentinel minority cut off",
                   "one sentinel (of 3) from the master and the other sentinels",
                   lambda: network_bed.block(replica.name, rules), lambda: network_bed.unblock(replica.name), 30,
                   passing_replica(cluster, replica), sentinel_flags_master_down(network_bed, replica))


def master_consul_lost(network_bed: NetworkBed, chaos_cluster: Callable[..., Cluster], name: str, cut: str,
                       killed: bool) -> Steady:
    """`killed`: the master's agent dies and starts again from its data dir; otherwise it
    runs on, cut off from the servers (the node's hooks still reach it)."""
    cluster = chaos_cluster(min_replicas=1)
    master = cluster.consul_master()

    def apply() -> None:
        if killed:
            master.lose_agent()
        else:
            cluster.agents.partition_agent(master.name)

    def undo() -> None:
        if killed:
            master.regain_agent()
        else:
            cluster.agents.heal_agent(master.name)

    def no_master_listed() -> None:
        assert not cluster.passing("redis"), "Consul still lists the master whose agent is gone"

    return steady_through(network_bed, cluster, master, name, cut, apply, undo, 30, passing_master(cluster, master),
                          no_master_listed)


def test_master_cut_off_from_consul_only(network_bed, chaos_cluster) -> None:
    """Redis and Sentinel still see each other: nothing fails over; Consul lists no master
    while the master's agent is cut off (its node fails gossip), and the master again after."""
    master_consul_lost(network_bed, chaos_cluster, "2c master cut off from Consul only",
                       "the master's Consul agent from the Consul servers (Redis and Sentinel untouched)",
                       killed=False)


# --- 3. Consul faults ----------------------------------------------------------------------


def test_master_consul_agent_killed(network_bed, chaos_cluster) -> None:
    master_consul_lost(network_bed, chaos_cluster, "3a master's Consul agent killed",
                       "the master's Consul agent (killed, then started again)", killed=True)


def test_whole_consul_gone_failover_through_sentinel(network_bed, chaos_cluster) -> None:
    """No Consul leader for 60 s, and the master's node killed 10 s into it: Redis keeps
    serving, Sentinel fails over alone, and Consul lists the new master within one health
    interval (plus the double's sync) of the leader's return."""
    cluster = chaos_cluster(min_replicas=0)
    old = cluster.consul_master()
    survivors = [node for node in cluster.nodes if node is not old]
    with ClusterSampler(cluster) as sampler:
        def sentinels_master() -> Optional[str]:
            named = [sampler.observations[-1].sentinel_masters.get(n.name) for n in survivors] if sampler.observations else []
            return named[0] if named and named[0] and all(m == named[0] for m in named) else None

        writer = Writer("sentinel-client", cluster, root_connect, sentinels_master)
        with writer:
            time.sleep(2)
            gone_at = time.time()
            cluster.agents.set_leader(False)
            time.sleep(10)
            killed_at = time.time()
            old.kill()
            time.sleep(50)
            back_at = time.time()
            cluster.agents.set_leader(True)
            new_address = sentinels_master()
            assert new_address not in (None, old.address), "Sentinel did not fail over without Consul"
            new = cluster.node_by_address(new_address)
            wait_until(passing_master(cluster, new), 60, "Consul lists the new master", interval=0.1,
                       describe=cluster.describe)
            consul_back_at = time.time()
            time.sleep(1)
    failover = sampler.first(lambda o: all(o.sentinel_masters.get(n.name) == new.address for n in survivors), killed_at)
    during = [o for o in sampler.between(killed_at + 1, back_at) if o.consul_masters is not None]
    lost = lost_writes(cluster, new.address, writer.acks)
    lost_on_new = [ack for ack in lost if ack.target == new.address]
    served = [a for a in writer.acks if gone_at <= a.at <= back_at]
    row = Row(scenario="3b no Consul leader for 60 s, master killed in it", cut="Consul's leader (every "
              "KV, health and catalog call fails); the master's node killed 10 s into it",
              duration_s=round(back_at - gone_at, 1), failover_s=round(failover.at - killed_at, 1) if failover else None,
              converge_s=None, consul_converge_s=round(consul_back_at - back_at, 1), acked=len(writer.acks),
              lost=len(lost), min_replicas_to_write=0, consul_overlap_s=round(sampler.longest(two_in_consul), 2),
              redis_overlap_s=round(sampler.longest(two_writable), 2),
              consul_names_replica_s=round(sampler.longest(consul_names_replica(cluster)), 2),
              consul_no_master_s=round(sampler.longest(consul_lists_none), 2), date=today())
    record(row)
    assert failover is not None
    assert served, "no write was acknowledged while Consul had no leader"
    assert not during, f"Consul answered health queries without a leader: {during[0]}"
    assert not lost_on_new, f"{len(lost_on_new)} writes acknowledged by the new master lost"
    assert row.consul_overlap_s == 0
