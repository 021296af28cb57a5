"""The server programs a node runs are found and asked for their features before anything
starts (README, "Compatibility"): a missing or refused one ends the container with an error
that names it, and no role is taken."""

from __future__ import annotations

from pathlib import Path

import servers
from harness import RedisManageHooks

SCALE = 0.2


def test_a_refused_or_missing_server_ends_the_container_naming_it(cluster_factory, tmp_path: Path) -> None:
    flavour = servers.selected()
    # The server under test with its CLIENT command renamed away: a real server that lacks
    # CLIENT PAUSE WRITE, whatever its version says.
    lacking = tmp_path / "server-without-client"
    lacking.write_text(f'#!/bin/sh\nexec "{flavour.server_bin}" "$@" --rename-command CLIENT ""\n')
    lacking.chmod(0o755)
    cluster = cluster_factory(size=2, hooks=RedisManageHooks(), interval_scale=SCALE).start(start_nodes=False)
    refused, missing = cluster.nodes
    refused.start(extra_env={"REDIS_SERVER_BIN": str(lacking)})
    missing.start(extra_env={"REDIS_SENTINEL_BIN": "no-such-sentinel"})
    for node in cluster.nodes:
        assert node.wait_exited(40), f"{node.name}'s container is still up after onStart refused its server"
        assert node.saw("exitFailed", "onStart") and not node.saw("exitSuccess", "onStart")
    text = refused.log_path.read_text(errors="replace")
    assert f"{lacking} is not a server redis-manage supports: " in text, text[-3000:]
    assert f"{flavour.version} lacks CLIENT PAUSE WRITE (ERR unknown command" in text, text[-3000:]
    assert "supported: Redis 6.2 and 7.0, Valkey 8.1" in text
    text = missing.log_path.read_text(errors="replace")
    assert "no-such-sentinel is not on PATH (" in text and "set REDIS_SENTINEL_BIN" in text, text[-3000:]
    # Neither took the bootstrap lock nor wrote a config.
    for node in cluster.nodes:
        assert not (node.etc_dir / "redis.conf").exists()
