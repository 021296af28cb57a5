"""Smoke scenario: three nodes form one replicated cluster, seen alike by Sentinel and Consul.

Runs the product: .build/debug/redis-manage (after `swift build`).
"""

from __future__ import annotations

import uuid

from harness import RedisManageHooks, wait_until

SCALE = 0.2  # health every second instead of every 5 s


def test_three_nodes_form_one_replicated_cluster_and_leave_no_process(cluster_factory) -> None:
    cluster = cluster_factory(size=3, hooks=RedisManageHooks(), interval_scale=SCALE)
    cluster.start()

    def consul_roles():
        masters, replicas = cluster.passing("redis"), cluster.passing("redis-replica")
        return len(masters) == 1 and len(replicas) == 2 and (masters, replicas)

    masters, replicas = wait_until(consul_roles, 20, "Consul lists 1 passing redis and 2 redis-replica",
                                   describe=cluster.describe)
    master = cluster.node_by_redis_port(masters[0].port)
    others = [node for node in cluster.nodes if node is not master]
    assert sorted(r.port for r in replicas) == sorted(node.redis_port for node in others)
    assert master.role() == "master" and [node.role() for node in others] == ["slave", "slave"]

    def sentinels_agree():
        views = cluster.sentinel_views()
        return len(views) == 3 and all(
            view.master == ("127.0.0.1", master.redis_port) and view.replicas == 2
            and view.other_sentinels == 2 for view in views.values()) and views

    # Replicas reach Sentinel through the master's INFO (every 10 s) and sentinels find
    # each other on the master's hello channel (every 2 s).
    wait_until(sentinels_agree, 30, "every sentinel sees 1 master, 2 replicas and 2 other sentinels",
               describe=cluster.describe)
    assert set(cluster.sentinel_masters().values()) == {("127.0.0.1", master.redis_port)}

    sentinels = wait_until(lambda: len(cluster.passing("redis-sentinel")) == 3 and
                           cluster.passing("redis-sentinel"), 15,
                           "healthSentinel registered redis-sentinel on every node",
                           describe=cluster.describe)
    assert sorted(s.service_id for s in sentinels) == sorted(
        f"redis-sentinel-127.0.0.1-{n.sentinel_port}" for n in cluster.nodes)
    assert sorted(s.port for s in sentinels) == sorted(n.sentinel_port for n in cluster.nodes)

    value = uuid.uuid4().hex
    assert cluster.write("smoke:key", value) is master
    for replica in others:
        wait_until(lambda: cluster.read(replica, "smoke:key") == value, 10,
                   f"{replica.name} replicated the key written to the master")

    pids = cluster.spawned_pids()
    assert len(pids) >= 1 + 3 * 4  # the double, and per node preStart, onStart and both servers
    cluster.stop(timeout=40)
    for node in cluster.nodes:
        assert node.saw("exitSuccess", "preStop"), f"preStop did not run on {node.name}"
        assert node.saw("stopped", "redis") and node.saw("stopped", "redis-sentinel")
    cluster.teardown()
    wait_until(lambda: not cluster.leftover_processes(), 10, "every process of the cluster is gone")
    assert not [pid for pid in pids if pid in cluster.leftover_processes()]
