"""Backups and restores through the real hooks, with the local-directory store.

Each test has its own BACKUP_DIR shared by its nodes, so the cluster sees one store.
Needs `swift build` first (the real redis-manage hooks).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import sys
import subprocess
import threading
from pathlib import Path
from typing import Optional

import pytest

from certificates import make_certificates
from consul_http import ConsulHTTPError
from harness import Cluster, Node, RedisManageHooks, wait_until
from manta import MantaDouble

SCALE = 0.2  # health every second instead of every 5 s
BACKUP_TTL = "1h"  # the periodic job must not take a second backup during a test


def make_cluster(cluster_factory, tmp_path: Path, size: int, **env: str) -> tuple[Cluster, Path]:
    backups = tmp_path / "backups"
    extra = {"BACKUP_DIR": str(backups), "BACKUP_TTL": BACKUP_TTL, "MASTER_WAIT_TIMEOUT": "3s",
             "BACKUP_SAVE_TIMEOUT": "120s"}
    extra.update(env)
    # These tests restart a node at once, often as a new container (reset_node). Consul's
    # gossip takes seconds to see a node die; restarted sooner, the node keeps its sessions,
    # the bootstrap lock with them, until their TTL runs out (a minute). Detection at once
    # spares the tests that wait, which is not what they are about.
    cluster = cluster_factory(size=size, hooks=RedisManageHooks(), interval_scale=SCALE, extra_env=extra,
                              consul_options={"failure_detection": 0})
    return cluster, backups


def wait_for_roles(cluster: Cluster, replicas: int) -> tuple[Node, list[Node]]:
    def roles():
        masters, found = cluster.passing("redis"), cluster.passing("redis-replica")
        return len(masters) == 1 and len(found) == replicas and (masters, found)

    masters, _ = wait_until(roles, 60, f"Consul lists 1 passing redis and {replicas} redis-replica",
                            describe=cluster.describe)
    master = cluster.node_by_redis_port(masters[0].port)
    return master, [node for node in cluster.running_nodes() if node is not master]


def run_hook(node: Node, *args: str, env: Optional[dict[str, str]] = None, timeout: float = 120,
             preexec=None) -> subprocess.CompletedProcess:
    environment = node.env()
    environment.update(env or {})
    binary = node.cluster.hook_bin / "redis-manage"
    return subprocess.run([str(binary), *args], env=environment, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec)


# --- data -----------------------------------------------------------------------------------


def encode(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def fill(node: Node, keys: int, seed: int = 1) -> None:
    """`keys` keys of every type, written through redis-cli --pipe (no DEBUG)."""
    rng = random.Random(seed)
    commands = []
    for index in range(keys):
        kind = index % 5
        token = f"{rng.getrandbits(64):016x}"
        if kind == 0:
            commands.append(encode("SET", f"s:{index}", token * 4))
        elif kind == 1:
            commands.append(encode("HSET", f"h:{index}", "a", token, "b", index, "c", token[::-1]))
        elif kind == 2:
            commands.append(encode("RPUSH", f"l:{index}", token, index, token, "x"))
        elif kind == 3:
            commands.append(encode("SADD", f"t:{index}", token, index, "member"))
        else:
            commands.append(encode("ZADD", f"z:{index}", 1.5, token, index, "m", -3, "n"))
    result = subprocess.run(["redis-cli", "-p", str(node.redis_port), "--pipe"], input=b"".join(commands),
                            capture_output=True, timeout=60)
    assert result.returncode == 0 and b"errors: 0" in result.stdout, result.stdout + result.stderr


def digest(node: Node) -> tuple[int, str]:
    """Key count and a SHA-256 over every key's type and content, in key order."""
    keys = []
    cursor = b"0"
    while True:
        cursor, batch = node.redis("SCAN", cursor, "COUNT", 1000, timeout=10)
        keys.extend(batch)
        if cursor == b"0":
            break
    hasher = hashlib.sha256()
    for key in sorted(set(keys)):
        kind = node.redis("TYPE", key)
        if kind == b"string":
            content = [node.redis("GET", key)]
        elif kind == b"hash":
            content = sorted(node.redis("HGETALL", key))
        elif kind == b"list":
            content = node.redis("LRANGE", key, 0, -1)
        elif kind == b"set":
            content = sorted(node.redis("SMEMBERS", key))
        elif kind == b"zset":
            content = node.redis("ZRANGE", key, 0, -1, "WITHSCORES")
        else:
            raise AssertionError(f"unexpected type {kind!r} of {key!r}")
        hasher.update(repr((key, kind, content)).encode())
    return len(set(keys)), hasher.hexdigest()


def wait_replicated(master: Node, replicas: list[Node]) -> None:
    size = master.redis("DBSIZE")
    for replica in replicas:
        wait_until(lambda: replica.redis("DBSIZE") == size, 30, f"{replica.name} has the master's {size} keys")


# --- store and Consul -------------------------------------------------------------------------


def kv(node: Node, key: str) -> Optional[bytes]:
    try:
        entries = node.consul().request("GET", f"/v1/kv/{key}")
    except ConsulHTTPError as error:
        if "HTTP 404" in str(error):
            return None
        raise
    value = entries[0].get("Value")
    return base64.b64decode(value) if value is not None else b""


def kv_keys(node: Node, prefix: str) -> list[str]:
    try:
        return sorted(node.consul().request("GET", f"/v1/kv/{prefix}?keys") or [])
    except ConsulHTTPError as error:
        if "HTTP 404" in str(error):
            return []
        raise


def metadata_keys(node: Node) -> list[str]:
    """The backups' metadata keys: what is under the prefix but the lock."""
    return [key for key in kv_keys(node, "service/redis/backups/") if key != "service/redis/backups/lock"]


def store_files(backups: Path) -> list[str]:
    return sorted(os.listdir(backups)) if backups.exists() else []


def reset_node(node: Node) -> None:
    """A new container on the same host: nothing left of the old one's disk, its stopped
    Consul agent's data included."""
    for directory in (node.data_dir, node.run_dir, node.etc_dir):
        shutil.rmtree(directory)
        directory.mkdir()
    if node.agent_down and node.consul_data_dir is not None:
        shutil.rmtree(node.consul_data_dir, ignore_errors=True)


def log_text(node: Node) -> str:
    return node.log_path.read_text(errors="replace")


def assert_append_only_dataset(node: Node) -> None:
    """The AOF is where the node's server keeps it, as it says itself: a directory from
    Redis 7 (and Valkey), a single file on Redis 6.2."""
    reply = node.redis("CONFIG", "GET", "append*name")
    layout = dict(zip(reply[::2], reply[1::2]))
    if layout.get(b"appenddirname"):
        assert (node.data_dir / layout[b"appenddirname"].decode()).is_dir(), layout
    else:
        assert (node.data_dir / layout[b"appendfilename"].decode()).is_file(), layout


# --- tests ----------------------------------------------------------------------------------


def test_one_backup_per_interval_from_a_replica_and_a_new_cluster_restores_it(cluster_factory, tmp_path) -> None:
    cluster, backups = make_cluster(cluster_factory, tmp_path, size=3)
    cluster.start()
    master, replicas = wait_for_roles(cluster, replicas=2)
    fill(master, 20000)
    wait_replicated(master, replicas)
    before = digest(master)
    assert before[0] == 20000

    def backup_everywhere() -> list[subprocess.CompletedProcess]:
        results: dict[str, subprocess.CompletedProcess] = {}
        threads = [threading.Thread(target=lambda n=node: results.__setitem__(n.name, run_hook(n, "backup")))
                   for node in cluster.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
        return [results[node.name] for node in cluster.nodes]

    first_round = dict(zip(cluster.nodes, backup_everywhere()))
    for result in first_round.values():
        assert result.returncode == 0, result.stdout + result.stderr
    assert "this node is master and Consul lists passing replicas" in first_round[master].stdout, first_round[master].stdout
    takers = [node for node, result in first_round.items() if "lock held, taking the backup" in result.stdout]
    assert len(takers) == 1 and takers[0] in replicas, {node.name: result.stdout for node, result in first_round.items()}
    files = store_files(backups)
    assert len(files) == 1 and files[0].startswith("dump-") and files[0].endswith(".rdb.gz"), files
    name = files[0]
    assert kv(master, "service/redis/last-backup") == name.encode()
    stem = name[: -len(".rdb.gz")]
    assert metadata_keys(master) == [f"service/redis/backups/{stem}"]
    metadata = json.loads(kv(master, f"service/redis/backups/{stem}"))
    assert metadata["node"] in {f"127.0.0.1:{node.redis_port}" for node in replicas}, metadata
    assert str(metadata["saved_at"]).encode() == kv(master, "service/redis/last-backup-time")
    compressed = (backups / name).read_bytes()
    rdb = gzip.decompress(compressed)
    assert rdb[:5] == b"REDIS" and metadata["rdb_version"] == int(rdb[5:9])
    assert hashlib.sha256(compressed).hexdigest() == metadata["gzip_sha256"] and len(compressed) == metadata["gzip_size"]
    assert hashlib.sha256(rdb).hexdigest() == metadata["rdb_sha256"] and len(rdb) == metadata["rdb_size"]

    # The interval has not passed: nobody takes another one.
    for result in backup_everywhere():
        assert result.returncode == 0, result.stdout + result.stderr
        assert "not due" in result.stdout, result.stdout
    assert store_files(backups) == [name]

    listing = run_hook(master, "backups", "list", env={"LOG_LEVEL": "ERROR"})
    assert listing.returncode == 0, listing.stderr
    assert f"* {name}" in listing.stdout.replace("*  ", "* "), listing.stdout
    assert metadata["rdb_sha256"][:16] in listing.stdout

    # The whole cluster goes; a new one starts on empty disks with the same Consul and store.
    for node in cluster.nodes:
        node.kill()
    for node in cluster.nodes:
        reset_node(node)
    for node in cluster.nodes:
        node.start()
    restored = wait_until(lambda: [n for n in cluster.nodes if "restored dataset is now an append-only file" in log_text(n)],
                          90, "one node restored the backup", describe=cluster.describe)
    assert len(restored) == 1, [node.name for node in restored]
    new_master = restored[0]
    wait_until(lambda: new_master.role() == "master" and new_master.redis("DBSIZE") == 20000, 30,
               "the restoring node serves the backup as master")
    new_replicas = [node for node in cluster.nodes if node is not new_master]
    wait_until(lambda: all(node.role() == "slave" for node in new_replicas), 60, "the others replicate it",
               describe=cluster.describe)
    assert digest(new_master) == before
    wait_replicated(new_master, new_replicas)
    assert digest(new_replicas[0]) == before
    assert_append_only_dataset(new_master)
    assert not [entry for entry in os.listdir(new_master.data_dir) if entry.startswith(".")]


def _single_node_with_backup(cluster_factory, tmp_path, **env: str) -> tuple[Cluster, Node, Path, str]:
    cluster, backups = make_cluster(cluster_factory, tmp_path, size=1, **env)
    cluster.start()
    node, _ = wait_for_roles(cluster, replicas=0)
    fill(node, 2000, seed=9)
    result = run_hook(node, "backup", "--now")
    assert result.returncode == 0, result.stdout + result.stderr
    name = store_files(backups)[0]
    return cluster, node, backups, name


@pytest.mark.core
def test_a_backup_is_restored_by_the_first_master_on_an_empty_disk(cluster_factory, tmp_path) -> None:
    """backup --now, then the node comes back as a new container: onStart restores the backup
    through a temporary instance of the node's own server program, which rewrites it as an
    append-only dataset laid out as that server lays it out."""
    cluster, node, backups, name = _single_node_with_backup(cluster_factory, tmp_path)
    before = digest(node)
    node.kill()
    reset_node(node)
    node.start()
    wait_until(lambda: node.role() == "master" and node.redis("DBSIZE") == before[0], 60,
               "the new container serves the restored backup as master", describe=cluster.describe)
    assert f"no local data and service/redis/last-backup names {name}; restoring it" in log_text(node)
    assert "the restored dataset is now an append-only file" in log_text(node)
    assert digest(node) == before
    assert_append_only_dataset(node)


def test_a_corrupt_backup_is_refused_unless_restore_on_failure_is_empty(cluster_factory, tmp_path) -> None:
    cluster, node, backups, name = _single_node_with_backup(cluster_factory, tmp_path)
    node.kill()
    reset_node(node)
    path = backups / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    node.start()
    wait_until(lambda: node.saw("exitFailed", "onStart"), 60, "onStart fails on the corrupt backup",
               describe=cluster.describe)
    text = log_text(node)
    assert f"restore of backup {name} failed" in text, text[-3000:]
    assert "corrupt" in text
    assert sorted(os.listdir(node.data_dir)) == [], "nothing of the failed restore is left"
    assert not node.saw("exitSuccess", "onStart")

    node.kill()
    reset_node(node)
    node.start({"RESTORE_ON_FAILURE": "empty"})
    wait_until(lambda: node.redis("DBSIZE") == 0 and node.role() == "master", 30, "the node starts empty")
    assert "STARTING WITH AN EMPTY DATASET" in log_text(node)


def test_a_metadata_mismatch_is_refused(cluster_factory, tmp_path) -> None:
    cluster, node, backups, name = _single_node_with_backup(cluster_factory, tmp_path)
    key = f"service/redis/backups/{name[:-len('.rdb.gz')]}"
    metadata = json.loads(kv(node, key))
    metadata["rdb_sha256"] = "0" * 64
    node.consul().request("PUT", f"/v1/kv/{key}", metadata)
    dry = run_hook(node, "restore", "--name", name, "--dry-run")
    assert dry.returncode == 1
    assert "SHA-256 of the RDB" in dry.stdout + dry.stderr, dry.stdout + dry.stderr
    assert not [entry for entry in os.listdir(node.data_dir) if entry.startswith(".")]


def test_restore_dry_run_and_refusals(cluster_factory, tmp_path) -> None:
    cluster, node, backups, name = _single_node_with_backup(cluster_factory, tmp_path)
    dry = run_hook(node, "restore", "--name", name, "--dry-run", env={"LOG_LEVEL": "ERROR"})
    assert dry.returncode == 0, dry.stdout + dry.stderr
    metadata = json.loads(kv(node, f"service/redis/backups/{name[:-len('.rdb.gz')]}"))
    assert metadata["rdb_sha256"] in dry.stdout and "checked against metadata: yes" in dry.stdout
    assert not [entry for entry in os.listdir(node.data_dir) if entry.startswith(".")]

    running = run_hook(node, "restore", "--name", name)
    assert running.returncode == 1 and "stop it before restoring" in running.stdout + running.stderr
    missing = run_hook(node, "restore", "--name", "dump-20000101000000.rdb.gz", "--dry-run")
    assert missing.returncode == 1 and "not found" in missing.stdout + missing.stderr
    usage = run_hook(node, "restore")
    assert usage.returncode == 2 and "--name NAME" in usage.stderr

    node.kill()
    # The container's own agent stays up while an operator restores.
    cluster.agents.revive_agent(node.name)
    node.agent_down = False
    has_data = run_hook(node, "restore", "--name", name)
    assert has_data.returncode == 1 and "already holds data" in has_data.stdout + has_data.stderr
    reset_node(node)
    restored = run_hook(node, "restore", "--name", name)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    node.start()
    wait_until(lambda: node.redis("DBSIZE") == 2000 and node.role() == "master", 30, "the restored node serves the backup's keys")
    assert_append_only_dataset(node)


def test_existing_aof_file_or_directory_is_kept_over_the_backup(cluster_factory, tmp_path) -> None:
    cluster, node, backups, name = _single_node_with_backup(cluster_factory, tmp_path)
    assert node.redis("DBSIZE") == 2000
    node.kill()
    reset_node(node)
    # A single-file AOF, as Redis before 7 writes it.
    (node.data_dir / "appendonly.aof").write_bytes(encode("SELECT", 0) + encode("SET", "local:aof", "kept"))
    node.start()
    wait_until(lambda: node.redis("GET", "local:aof") == b"kept", 30, "the node serves its own AOF")
    assert "data directory holds data (appendonly.aof" in log_text(node)
    assert node.redis("DBSIZE") == 1

    node.kill()
    # Redis 7 moved it into appendonlydir/.
    assert (node.data_dir / "appendonlydir").is_dir() and not (node.data_dir / "appendonly.aof").exists()
    node.start()
    wait_until(lambda: node.redis("GET", "local:aof") == b"kept", 30, "the node serves its own AOF directory")
    assert "data directory holds data (appendonlydir/)" in log_text(node)
    assert node.redis("DBSIZE") == 1


def test_an_upload_failing_half_way_changes_nothing_and_the_next_run_succeeds(cluster_factory, tmp_path) -> None:
    cluster, backups = make_cluster(cluster_factory, tmp_path, size=1)
    cluster.start()
    node, _ = wait_for_roles(cluster, replicas=0)
    fill(node, 20000, seed=5)
    limit = 64 * 1024

    def small_files() -> None:
        # The write past the limit fails with EFBIG instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    failed = run_hook(node, "backup", "--now", preexec=small_files)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "File too large" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
    assert store_files(backups) == [], "no object and no temporary file"
    assert kv(node, "service/redis/last-backup") is None
    assert kv(node, "service/redis/last-backup-time") is None
    assert metadata_keys(node) == []

    passed = run_hook(node, "backup", "--now")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    files = store_files(backups)
    assert len(files) == 1 and (backups / files[0]).stat().st_size > limit
    assert kv(node, "service/redis/last-backup") == files[0].encode()


def test_backup_keep_deletes_older_backups_and_their_metadata(cluster_factory, tmp_path) -> None:
    cluster, backups = make_cluster(cluster_factory, tmp_path, size=1, BACKUP_KEEP="2")
    cluster.start()
    node, _ = wait_for_roles(cluster, replicas=0)
    names = []
    for round_ in range(3):
        node.redis("SET", "round", round_)
        result = run_hook(node, "backup", "--now")
        assert result.returncode == 0, result.stdout + result.stderr
        names.append(kv(node, "service/redis/last-backup").decode())
    assert len(set(names)) == 3
    assert store_files(backups) == sorted(names[1:])
    stems = [f"service/redis/backups/{n[:-len('.rdb.gz')]}" for n in names[1:]]
    assert metadata_keys(node) == stems


# --- S3 (moto, signatures checked) -----------------------------------------------------------


class MotoS3:
    """moto's S3 server on a free port over https, like S3 itself (its certificate from a
    private CA), checking SigV4 once set up; killed by `stop`."""

    def __init__(self, workdir: Path) -> None:
        import socket
        import ssl
        import urllib.request
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self.certificates = make_certificates(workdir / "tls")
        trust = ssl.create_default_context(cafile=str(self.certificates.ca))
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="inf")
        self.log = open(workdir / "moto.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port),
                                         "-c", str(self.certificates.certificate), "-k", str(self.certificates.key)],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=2,
                                                  context=trust).status == 200,
                   60, "moto_server answers")
        import boto3
        setup = dict(endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="setup",
                     aws_secret_access_key="setup", verify=str(self.certificates.ca))
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="backup")
        key = iam.create_access_key(UserName="backup")["AccessKey"]
        iam.put_user_policy(UserName="backup", PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                               aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
                               verify=str(self.certificates.ca))
        self.s3.create_bucket(Bucket="redis-backups")
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        assert urllib.request.urlopen(request, timeout=10, context=trust).status == 200

    def env(self) -> dict[str, str]:
        return {"BACKUP_STORE": "s3", "S3_BUCKET": "redis-backups", "S3_PREFIX": "cluster-a/",
                "AWS_ACCESS_KEY_ID": self.key_id, "AWS_SECRET_ACCESS_KEY": self.secret, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": self.endpoint, "SSL_CERT_FILE": str(self.certificates.ca)}

    def names(self) -> list[str]:
        answer = self.s3.list_objects_v2(Bucket="redis-backups")
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()


def test_backup_to_s3_over_https_and_restore_from_it(cluster_factory, tmp_path) -> None:
    moto = MotoS3(tmp_path)
    try:
        cluster, _ = make_cluster(cluster_factory, tmp_path, size=1, **moto.env())
        cluster.start()
        node, _ = wait_for_roles(cluster, replicas=0)
        fill(node, 5000, seed=11)
        before = digest(node)
        result = run_hook(node, "backup", "--now")
        assert result.returncode == 0, result.stdout + result.stderr
        name = kv(node, "service/redis/last-backup").decode()
        assert moto.names() == [f"cluster-a/{name}"]
        body = moto.s3.get_object(Bucket="redis-backups", Key=f"cluster-a/{name}")["Body"].read()
        metadata = json.loads(kv(node, f"service/redis/backups/{name[:-len('.rdb.gz')]}"))
        assert hashlib.sha256(body).hexdigest() == metadata["gzip_sha256"]

        node.kill()
        reset_node(node)
        node.start()
        wait_until(lambda: node.role() == "master" and node.redis("DBSIZE") == 5000, 60,
                   "the node restored the S3 backup", describe=cluster.describe)
        assert digest(node) == before
        # Every request after set-up was signed and checked: a wrong secret is refused.
        bad = run_hook(node, "backups", "list", env={"AWS_SECRET_ACCESS_KEY": "wrong"})
        assert bad.returncode == 1 and "SignatureDoesNotMatch" in bad.stdout + bad.stderr, bad.stdout + bad.stderr
    finally:
        moto.stop()


# --- Manta (the double, signatures checked) ---------------------------------------------------

def test_backup_to_manta_over_https_retries_a_cut_upload_and_restores(cluster_factory, tmp_path) -> None:
    manta = MantaDouble(tmp_path)
    try:
        cluster, _ = make_cluster(cluster_factory, tmp_path, size=1, **manta.env())
        cluster.start()
        node, _ = wait_for_roles(cluster, replicas=0)
        fill(node, 20000, seed=13)
        before = digest(node)

        untrusted = run_hook(node, "backups", "list", env={"SSL_CERT_FILE": str(tmp_path / "no-such-ca.pem")})
        assert untrusted.returncode == 1, untrusted.stdout + untrusted.stderr
        assert "certificate" in untrusted.stderr + untrusted.stdout

        # Every attempt fails: nothing stored, no key written.
        manta.control("POST", "/faults?code=InternalError&method=PUT&count=4")
        failed = run_hook(node, "backup", "--now")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert manta.names() == []
        assert kv(node, "service/redis/last-backup") is None and metadata_keys(node) == []

        # A cut upload is sent again from the start of the RDB.
        manta.control("POST", "/fail-after-bytes?bytes=100000")
        passed = run_hook(node, "backup", "--now")
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "retry 1 of 3" in passed.stdout
        name = kv(node, "service/redis/last-backup").decode()
        assert manta.names() == [name]
        metadata = json.loads(kv(node, f"service/redis/backups/{name[:-len('.rdb.gz')]}"))
        stored = (manta.root / "backup" / "stor" / "redis" / name).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == metadata["gzip_sha256"]

        node.kill()
        reset_node(node)
        node.start()
        wait_until(lambda: node.role() == "master" and node.redis("DBSIZE") == 20000, 60,
                   "the node restored the Manta backup", describe=cluster.describe)
        assert digest(node) == before
    finally:
        manta.stop()
