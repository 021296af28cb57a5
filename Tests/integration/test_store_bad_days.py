"""Scenarios of issue 19, items 5-9: backups and restores through Manta's and S3's bad days,
with the real hooks, the Manta double and moto behind the S3 fault proxy.

Item 8 (Manta refusing an old Date as RequestExpired, listings streamed chunked) asks
nothing new of the product: it signs with the current time and reads chunked listings,
which `backups list` shows in the item 5 scenario.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from harness import wait_until
from manta import MantaDouble
from test_backup import MotoS3, digest, fill, kv, make_cluster, reset_node, run_hook, wait_for_roles

S3_FAULT_PROXY = Path(__file__).resolve().parents[1] / "doubles" / "s3_fault_proxy.py"


def test_item5_a_503_on_the_restore_download_is_retried(cluster_factory, tmp_path) -> None:
    """The first master of an empty cluster restores the recorded backup; Manta answers
    its first two GETs 503. onStart retries instead of failing."""
    # Storage nodes with room for any upload: this scenario is about the download.
    manta = MantaDouble(tmp_path, arguments=["--free-space-mb", str(1 << 20)])
    try:
        cluster, _ = make_cluster(cluster_factory, tmp_path, size=1, **manta.env())
        cluster.start()
        node, _ = wait_for_roles(cluster, replicas=0)
        fill(node, 2000, seed=5)
        before = digest(node)
        taken = run_hook(node, "backup", "--now")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        listed = run_hook(node, "backups", "list")
        assert listed.returncode == 0 and kv(node, "service/redis/last-backup").decode() in listed.stdout, listed.stdout

        node.kill()
        reset_node(node)
        manta.control("POST", "/faults?code=ServiceUnavailable&method=GET&count=2")
        node.start()
        wait_until(lambda: node.role() == "master" and node.redis("DBSIZE") == 2000, 60,
                   "the node restored the backup through Manta's 503s", describe=cluster.describe)
        assert digest(node) == before
    finally:
        manta.stop()


def test_item6_a_backup_fits_storage_nodes_with_less_than_5_gib_free(cluster_factory, tmp_path) -> None:
    """Manta reserves 5 GiB for a chunked upload that does not say how large it can be;
    storage nodes with 100 MB free refuse that with 507 every time."""
    manta = MantaDouble(tmp_path, arguments=["--free-space-mb", "100"])
    try:
        cluster, _ = make_cluster(cluster_factory, tmp_path, size=1, **manta.env())
        cluster.start()
        node, _ = wait_for_roles(cluster, replicas=0)
        fill(node, 2000, seed=6)
        taken = run_hook(node, "backup", "--now")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert manta.names() == [kv(node, "service/redis/last-backup").decode()]
    finally:
        manta.stop()


def test_item7_a_subuser_that_may_put_but_not_list_backs_up(cluster_factory, tmp_path) -> None:
    """The backup directory is tagged with a role that lets the sub-user put objects and
    nothing else: no listing may come before the upload."""
    manta = MantaDouble(tmp_path, subuser="writer-bot",
                        arguments=["--role", "writer=putobject", "--role-tag", "/backup/stor/redis=writer"])
    try:
        cluster, _ = make_cluster(cluster_factory, tmp_path, size=1, **manta.env())
        cluster.start()
        node, _ = wait_for_roles(cluster, replicas=0)
        fill(node, 500, seed=7)
        taken = run_hook(node, "backup", "--now")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert manta.names() == [kv(node, "service/redis/last-backup").decode()]
    finally:
        manta.stop()


class S3FaultProxy:
    """Tests/doubles/s3_fault_proxy.py over https in front of moto, with moto's certificate."""

    def __init__(self, moto: MotoS3, workdir: Path) -> None:
        ready = workdir / "s3-proxy-ready.json"
        certificates = moto.certificates
        self.log = open(workdir / "s3-proxy.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, str(S3_FAULT_PROXY), "--upstream", moto.endpoint, "--upstream-ca", str(certificates.ca),
             "--tls-cert", str(certificates.certificate), "--tls-key", str(certificates.key),
             "--ready-file", str(ready)], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        info = wait_until(lambda: ready.exists() and json.loads(ready.read_text()), 20, "the S3 fault proxy is ready")
        self.endpoint = f"https://127.0.0.1:{info['port']}"
        self.control_port = info["control_port"]

    def arm(self, query: str) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/faults?{query}", data=b"", method="POST")
        assert urllib.request.urlopen(request, timeout=10).status == 200

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()


def test_item9_s3_errors_and_a_reset_are_retried(cluster_factory, tmp_path) -> None:
    """S3 answers the upload 503 SlowDown, then 500 InternalError, then resets the
    connection; the backup is taken all the same, and restored through a 400
    RequestTimeout on the download."""
    moto = MotoS3(tmp_path)
    proxy = S3FaultProxy(moto, tmp_path)
    try:
        env = dict(moto.env(), AWS_ENDPOINT_URL_S3=proxy.endpoint)
        cluster, _ = make_cluster(cluster_factory, tmp_path, size=1, **env)
        cluster.start()
        node, _ = wait_for_roles(cluster, replicas=0)
        fill(node, 2000, seed=9)
        before = digest(node)
        for kind in ("SlowDown", "InternalError", "reset"):
            proxy.arm(f"kind={kind}&method=PUT")
        taken = run_hook(node, "backup", "--now")
        assert taken.returncode == 0, taken.stdout + taken.stderr
        name = kv(node, "service/redis/last-backup").decode()
        assert moto.names() == [f"cluster-a/{name}"]

        node.kill()
        reset_node(node)
        proxy.arm("kind=RequestTimeout&method=GET&match=.rdb.gz")
        node.start()
        wait_until(lambda: node.role() == "master" and node.redis("DBSIZE") == 2000, 60,
                   "the node restored the S3 backup", describe=cluster.describe)
        assert digest(node) == before
    finally:
        proxy.stop()
        moto.stop()
