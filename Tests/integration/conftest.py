"""Fixtures of the integration bed: clusters that are always torn down, logs on failure."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pytest

import netns
from harness import Cluster, wait_until


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the scenarios marked slow (long timing measurements)")
    parser.addoption("--run-chaos", action="store_true", default=False,
                     help="also run the chaos scenarios (marker chaos: partitions in network "
                          "namespaces, minutes each; `make chaos`, `make test-chaos`)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long measurement, skipped unless --run-slow is given")
    config.addinivalue_line("markers", "core: a core scenario, also run on every other server CI tests "
                                       "(`make test`: REDIS_FLAVOUR=redis62 and valkey81, pytest -m core)")
    config.addinivalue_line("markers", "chaos: a partition or fault scenario in network namespaces, "
                                       "skipped unless --run-chaos is given (`make chaos`)")
    config.addinivalue_line("markers", "chaos_ci: the short chaos subset CI runs (`make test-chaos`)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_slow = pytest.mark.skip(reason="slow measurement: run with --run-slow")
    skip_chaos = pytest.mark.skip(reason="chaos scenario: run with --run-chaos (make chaos)")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--run-slow"):
            item.add_marker(skip_slow)
        # The marker, not keywords: those hold directory names too (a checkout named chaos).
        if item.get_closest_marker("chaos") is not None and not config.getoption("--run-chaos"):
            item.add_marker(skip_chaos)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for cluster in getattr(item, "_harness_clusters", []):
            report.sections.append((f"logs of {cluster.workdir}", cluster.collect_logs()))


@pytest.fixture
def cluster_factory(request: pytest.FixtureRequest, tmp_path) -> Callable[..., Cluster]:
    """make(**Cluster kwargs) -> an unstarted Cluster; every one is torn down after the test."""
    clusters: list[Cluster] = []
    request.node._harness_clusters = clusters

    def make(**kwargs: Any) -> Cluster:
        cluster = Cluster(tmp_path / f"cluster{len(clusters) + 1}", **kwargs)
        clusters.append(cluster)
        return cluster

    def teardown() -> None:
        for cluster in clusters:
            cluster.teardown()
        # Teardown also checks itself: a process that outlives it fails the test.
        for cluster in clusters:
            wait_until(lambda: not cluster.leftover_processes(), 10,
                       f"every process of {cluster.workdir} is gone after teardown")

    request.addfinalizer(teardown)
    return make


@pytest.fixture
def network_bed() -> Iterator[netns.NetworkBed]:
    """A bridge on the reserved chaos subnet, removed with every namespace and link after
    the test, whatever happened. Without root the test is skipped with the reason, unless
    CHAOS_REQUIRE_NETNS=1 (CI), which makes that a failure."""
    reason = netns.unavailable()
    if reason is not None:
        if os.environ.get("CHAOS_REQUIRE_NETNS") == "1":
            pytest.fail(f"CHAOS_REQUIRE_NETNS=1 but {reason}")
        pytest.skip(reason)
    bed = netns.NetworkBed.create()
    try:
        yield bed
    finally:
        bed.teardown()
        assert not bed.leftovers(), f"left behind after teardown: {bed.leftovers()}"
