"""Scenarios of issue 19, items 1-4: the real hooks over a Consul double that behaves as
Consul does (timing="consul"): its catalog keeps a restarted node's old statuses until the
agent syncs, serfHealth follows gossip and the leader, ACLs filter reads, and nothing moves
without a leader. Delays are given where the rule, not Consul's full duration, is the point.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

import consul_backend
from harness import Cluster, RedisManageHooks, wait_until
from sampling import ConsulSampler, passing_ports
from test_lifecycle import SCALE, node_env, wait_for_roles

pytestmark = pytest.mark.skipif(consul_backend.selected_backend() != "double",
                                reason="drives the Consul double's timing and control API")


def make_cluster(cluster_factory, size: int, **consul_options) -> Cluster:
    return cluster_factory(size=size, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=node_env(),
                           consul_options={"timing": "consul", **consul_options})


def test_item1_the_new_master_keeps_passing_while_consul_lists_the_dead_old_one(cluster_factory) -> None:
    """The old master's node crashes and its agent comes back: until that agent's first
    full sync (here 2.9 s, a draw of Consul's 0-3 s stagger) the catalog lists the old
    master as passing `redis` again, from before the crash. Its Redis is down: the new
    master must not step back for it, or Consul would list only the dead one."""
    cluster = make_cluster(cluster_factory, 3, failure_detection=1.0, member_reconcile=0.2).start()
    old, _ = wait_for_roles(cluster, replicas=2)
    old.kill()
    new_port = wait_until(lambda: (lambda m: len(m) == 1 and m[0] != old.redis_port and m[0])(
        passing_ports(cluster, "redis")), 30, "Consul's passing redis moves to a new master", describe=cluster.describe)

    # The container starts again: preStart, then the agent on its data dir. onStart (whose
    # first write to the agent would sync it at once) is not run: ContainerPilot starts it
    # only once the agent's health check has passed, seconds later.
    prestart = subprocess.run([str(cluster.hook_bin / "redis-manage"), "preStart"], env=old.env(),
                              capture_output=True, text=True, timeout=30)
    assert prestart.returncode == 0, prestart.stdout + prestart.stderr
    with ConsulSampler(cluster) as sampler:
        revived = time.time()
        cluster.agents.revive_agent(old.name, sync_after=2.9)
        time.sleep(4.5)
    listed = [s for s in sampler.samples if s.at >= revived and old.redis_port in s.masters]
    assert listed, "the scenario needs the catalog to list the dead old master again"
    dropped = [s for s in sampler.samples if s.at >= revived + 0.5 and new_port not in s.masters]
    assert not dropped, (f"the new master left Consul's passing redis in {len(dropped)} samples while the dead "
                         f"old one was listed, first {dropped[0].at - revived:.2f}s after the revive: {dropped[0].masters}")
    assert sampler.samples[-1].masters == [new_port]


def test_item2_a_new_node_waits_for_consul_to_reconcile_it_before_its_bootstrap_session(cluster_factory) -> None:
    """The first node of a cluster joins through a new agent that the leader reconciles
    late (its member event dropped from a full reconcile queue, server_serf.go): until then
    session/create answers 500 `Missing node registration`. onStart asks again instead of
    failing, and the node becomes master."""
    cluster = make_cluster(cluster_factory, 1, member_reconcile=4.0, sync_stagger=0.5).start(start_nodes=False)
    node = cluster.add_node()
    wait_until(lambda: passing_ports(cluster, "redis") == [node.redis_port], 40,
               f"{node.name} becomes the passing master", describe=cluster.describe)
    log = node.log_path.read_text(errors="replace")
    assert "Missing node registration" in log or "Missing check 'serfHealth' registration" in log, \
        "the scenario needs Consul to refuse the session first"


def test_item3_a_token_that_cannot_read_redis_fails_onstart_instead_of_a_second_master(cluster_factory, tmp_path) -> None:
    """`service_prefix "redis-"` does not cover `redis`: Consul answers the health reads
    with the entries left out (X-Consul-Results-Filtered-By-ACLs). onStart must fail
    naming the permission, never see an empty cluster and bootstrap a second master."""
    management, narrow = "management-token", "narrow-token"
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps({"tokens": {narrow: {
        "service_prefix": {"redis-": "write"}, "key_prefix": {"service/": "write"},
        "session_prefix": {"": "write"}, "agent_prefix": {"": "read"}}}}))
    cluster = cluster_factory(size=2, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=node_env(),
                              token=management, consul_options={"acl_file": str(acl)}).start(start_nodes=False)
    first, second = cluster.nodes
    first.start()
    wait_until(lambda: passing_ports(cluster, "redis") == [first.redis_port], 30, f"{first.name} is master",
               describe=cluster.describe)
    second.start(extra_env={"CONSUL_HTTP_TOKEN": narrow})
    wait_until(lambda: second.saw("exitFailed", "onStart") or second.role() == "master", 30,
               f"onStart of {second.name} ends", describe=cluster.describe)
    assert second.role() is None, f"{second.name} started Redis as {second.role()} on a filtered view of Consul"
    log = second.log_path.read_text(errors="replace")
    # It names the read Consul filtered and the permission that read needs.
    assert "(CONSUL_HTTP_TOKEN) lacks service:read on" in log and "X-Consul-Results-Filtered-By-ACLs" in log, log[-2000:]
    assert passing_ports(cluster, "redis") == [first.redis_port]


def test_item4_after_a_leaderless_failover_consul_converges_on_the_new_master(cluster_factory) -> None:
    """Without a leader the catalog stands still: the master's Redis dies, Sentinel
    promotes a replica, the hooks register it on its agent, and Consul keeps listing the
    old master. Once a leader is back, the nodes' next writes bring the catalog in line."""
    cluster = make_cluster(cluster_factory, 3, failure_detection=1.0, member_reconcile=0.2).start()
    old, _ = wait_for_roles(cluster, replicas=2)
    cluster.agents.set_leader(False)
    old.kill()
    new = wait_until(lambda: next((node for node in cluster.running_nodes() if node.role() == "master"), None), 30,
                     "Sentinel promotes a replica", describe=cluster.describe)
    time.sleep(2)
    stale = new.consul().request("GET", "/v1/health/service/redis?passing&stale")
    assert [entry["Service"]["Port"] for entry in stale] == [old.redis_port], "the catalog moved without a leader"
    cluster.agents.set_leader(True)
    wait_until(lambda: passing_ports(cluster, "redis") == [new.redis_port], 10,
               f"Consul lists {new.name}, and only it, as passing redis", describe=cluster.describe)
