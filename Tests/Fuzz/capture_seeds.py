"""Writes the fuzz targets' seed corpora, Tests/Fuzz/corpus/<target>/, from real captures.

What real servers sent: a 3-node cluster run by the harness with the real hooks
(redis-server and redis-sentinel 7.0 replies, the Consul double's HTTP answers, the
config files redis-manage wrote and Sentinel rewrote after a failover, a backup's RDB,
gzip file and metadata), moto's S3 answers, keys from openssl and ssh-keygen, and the
settings the README and examples use. Each seed is prefixed as its target reads it (see
Tests/RedisAutopilotTests/FuzzTargets.swift).

Run from the repository root after `swift build`: python3 Tests/Fuzz/capture_seeds.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "integration"))

from harness import Cluster, RedisManageHooks, free_port, wait_until  # noqa: E402
from sampling import passing_ports  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
MAX_SEED = 4096  # libFuzzer's default -max_len


def save(target: str, data: bytes) -> None:
    data = data[:MAX_SEED]
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


# --- raw bytes from servers --------------------------------------------------------------------


def resp_end(buffer: bytes, start: int = 0) -> int | None:
    """Offset just past the RESP2 reply at `start`, None while incomplete."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return None
    kind, body = buffer[start:start + 1], buffer[start + 1:line_end]
    if kind in (b"+", b"-", b":"):
        return line_end + 2
    count = int(body)
    if kind == b"$":
        end = line_end + 2 + max(count, 0) + (2 if count >= 0 else 0)
        return end if len(buffer) >= end else None
    offset = line_end + 2
    for _ in range(max(count, 0)):
        offset = resp_end(buffer, offset)
        if offset is None:
            return None
    return offset


def raw_resp(port: int, *args: str) -> bytes:
    """The exact bytes of one reply."""
    command = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command)
        buffer = b""
        while (end := resp_end(buffer)) is None:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"{port} closed")
            buffer += chunk
    return buffer[:end]


def raw_http(port: int, method: str, target: str, body: bytes = b"", headers: str = "") -> bytes:
    """The exact bytes of one response (the request asks the server to close after it)."""
    request = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
               f"Content-Length: {len(body)}\r\n{headers}\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    return response


def http_body(response: bytes) -> bytes:
    return response.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in response else b""


def save_http(response: bytes, head: bool = False) -> None:
    # First byte: bit 0 HEAD, the rest the piece size the target feeds the response in
    # (not 1: byte by byte, a 4 KB seed takes the fuzzer's time for little).
    for piece in (7, 100):
        save("http", bytes([(piece - 1) << 1 | int(head)]) + response)
    if not head and b"\r\n\r\n" in response:
        save("http", bytes([6 << 1]) + rechunked(response))


def rechunked(response: bytes) -> bytes:
    """The same answer framed as Go servers (real Consul, SeaweedFS) frame a body of unknown
    length: chunked, here with a chunk extension and a trailer as RFC 9112 allows."""
    head, body = response.split(b"\r\n\r\n", 1)
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length:")]
    out = b"\r\n".join(lines + [b"Transfer-Encoding: chunked", b"Trailer: X-Checksum"]) + b"\r\n\r\n"
    offset, sizes = 0, [1, 16, 300, 4000]
    while offset < len(body):
        size = min(sizes[(offset // 7) % len(sizes)], len(body) - offset)
        out += b"%x;piece=1\r\n" % size + body[offset:offset + size] + b"\r\n"
        offset += size
    return out + b"0\r\nX-Checksum: %s\r\n\r\n" % hashlib.sha1(body).hexdigest().encode()


# --- the cluster -------------------------------------------------------------------------------


def capture_cluster(workdir: Path) -> None:
    backups = workdir / "backups"
    cluster = Cluster(workdir / "cluster", size=3, hooks=RedisManageHooks(), interval_scale=0.2,
                      extra_env={"SENTINEL_DOWN_AFTER": "1000ms", "BACKUP_DIR": str(backups), "BACKUP_TTL": "1h"})
    try:
        cluster.start()
        wait_until(lambda: len(passing_ports(cluster, "redis")) == 1 and len(passing_ports(cluster, "redis-replica")) == 2,
                   60, "roles settle", describe=cluster.describe)
        wait_until(lambda: all(v.replicas == 2 and v.other_sentinels == 2 for v in cluster.sentinel_views().values()),
                   30, "sentinels know everyone")
        master = cluster.node_by_redis_port(passing_ports(cluster, "redis")[0])
        replica = next(node for node in cluster.nodes if node is not master)
        for index in range(20):
            master.redis("SET", f"key:{index}", f"value-{index}")
        master.redis("RPUSH", "list", "a", "b")

        for node in (master, replica):
            for args in (("INFO",), ("INFO", "replication"), ("INFO", "persistence"), ("INFO", "server"), ("ROLE",),
                         ("CONFIG", "GET", "dir"), ("PING",), ("GET", "missing"), ("LRANGE", "list", "0", "-1"),
                         ("GET", "list"), ("BLPOP", "none", "0.01")):
                reply = raw_resp(node.redis_port, *args)
                for piece in (0, 3, 200):
                    save("resp", bytes([piece]) + reply)
                save("replies", reply)
                if args[0] == "INFO":
                    save("info", reply.split(b"\r\n", 1)[1][:-2])
        sentinel = cluster.nodes[0].sentinel_port
        for args in (("SENTINEL", "MASTER", "mymaster"), ("SENTINEL", "MASTERS"), ("SENTINEL", "REPLICAS", "mymaster"),
                     ("SENTINEL", "SENTINELS", "mymaster"), ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"),
                     ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other"), ("SENTINEL", "CKQUORUM", "mymaster"),
                     ("ROLE",), ("INFO",), ("SENTINEL", "RESET", "nothing")):
            reply = raw_resp(sentinel, *args)
            save("replies", reply)
            save("resp", bytes([5]) + reply)
            if args[0] == "INFO":
                save("info", reply.split(b"\r\n", 1)[1][:-2])
        # What Sentinel passes the client-reconfig-script, as a RESP array of words.
        words = ["mymaster", "leader", "start", "127.0.0.1", str(master.redis_port), "127.0.0.1", str(replica.redis_port)]
        save("replies", b"*7\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words))

        agent = master.agent_port
        for target in ("/v1/health/service/redis?passing", "/v1/health/service/redis-sentinel", "/v1/health/service/redis-replica?passing",
                       "/v1/catalog/service/redis-replica", "/v1/agent/services", "/v1/agent/checks", "/v1/agent/self",
                       "/v1/status/leader", "/v1/kv/service/redis/?recurse", "/v1/kv/nothing/here", "/v1/kv/service/?keys&separator=/"):
            response = raw_http(agent, "GET", target)
            save_http(response)
            save("consul", http_body(response))
        save_http(raw_http(agent, "HEAD", "/v1/agent/self"), head=True)

        backup = subprocess.run([str(cluster.hook_bin / "redis-manage"), "backup", "--now"], env=replica.env(),
                                capture_output=True, text=True, timeout=120)
        assert backup.returncode == 0, backup.stdout + backup.stderr
        for response in (raw_http(agent, "GET", "/v1/kv/service/redis/backups/?recurse"),
                         raw_http(agent, "GET", "/v1/kv/service/redis/last-backup-time")):
            save_http(response)
            save("consul", http_body(response))
        pairs = json.loads(http_body(raw_http(agent, "GET", "/v1/kv/service/redis/backups/?recurse")))
        last_time = int(base64.b64decode(json.loads(http_body(raw_http(agent, "GET", "/v1/kv/service/redis/last-backup-time")))[0]["Value"]))
        for pair in pairs:
            if pair["Key"].endswith("/lock") or not pair.get("Value"):
                continue
            metadata = base64.b64decode(pair["Value"])
            name = json.loads(metadata)["name"].encode()
            # FuzzInput: an Int64 time, a length-prefixed name, then the metadata JSON.
            save("backups", struct.pack(">q", last_time) + bytes([len(name)]) + name + metadata)
            save("backups", struct.pack(">q", last_time - 86400 * 400) + bytes([len(name)]) + name + metadata)
        for stored in backups.iterdir():
            data = stored.read_bytes()
            for piece in (0, 9, 255):
                save("gzip", bytes([piece]) + data)
            save("gzip", bytes([17]) + data + data)  # two members, as gzip -d reads concatenations
        for rdb in replica.data_dir.glob("*.rdb"):
            save("rdb", rdb.read_bytes())

        for node in cluster.nodes:
            for name in ("redis.conf", "sentinel.conf"):
                save("conf", (node.etc_dir / name).read_bytes())
        asker = next(node for node in cluster.nodes if node is not master)
        asker.sentinel("SENTINEL", "FAILOVER", "mymaster")
        files = [node.etc_dir / name for node in cluster.nodes for name in ("redis.conf", "sentinel.conf")]
        wait_until(lambda: all(b"CONFIG REWRITE" in path.read_bytes() for path in files), 40, "Sentinel rewrote the files")
        for path in files:
            save("conf", path.read_bytes())
    finally:
        cluster.teardown()


# --- S3 ----------------------------------------------------------------------------------------


def capture_s3(workdir: Path) -> None:
    port = free_port(set())
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="inf")
    log = open(workdir / "moto.log", "wb")
    process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                               env=env, start_new_session=True)
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, 30, "moto answers")
        steps = [
            ("PUT", "/redis-backups", b""),
            ("PUT", "/redis-backups/dump-20250101000000.rdb.gz", b"\x1f\x8b" + b"x" * 100),
            ("PUT", "/redis-backups/a/dump-20250102000000.rdb.gz", b"y" * 10),
            ("GET", "/redis-backups?list-type=2&delimiter=/&max-keys=1", b""),
            ("GET", "/redis-backups?list-type=2&delimiter=/", b""),
            ("POST", "/redis-backups/big.rdb.gz?uploads", b""),
            ("GET", "/redis-backups?uploads&prefix=", b""),
            ("GET", "/redis-backups/missing.rdb.gz", b""),
            ("GET", "/no-such-bucket?list-type=2", b""),
            ("DELETE", "/redis-backups/dump-20250101000000.rdb.gz", b""),
        ]
        for method, target, body in steps:
            response = raw_http(port, method, target, body, "Content-Type: application/octet-stream\r\n")
            save_http(response)
            if b"<" in http_body(response):
                save("s3xml", http_body(response))
        save_http(raw_http(port, "HEAD", "/redis-backups/a/dump-20250102000000.rdb.gz"), head=True)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        log.close()


# --- keys and settings ---------------------------------------------------------------------------


def capture_keys(workdir: Path) -> None:
    pkcs1, pkcs8, der, ssh = (workdir / name for name in ("pkcs1.pem", "pkcs8.pem", "pkcs1.der", "ssh"))
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(pkcs1), "1024"], check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", str(pkcs1), "-out", str(pkcs8)], check=True)
    subprocess.run(["openssl", "rsa", "-traditional", "-in", str(pkcs1), "-outform", "DER", "-out", str(der)],
                   check=True, capture_output=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-C", "fuzz", "-f", str(ssh)], check=True)
    for path in (pkcs1, pkcs8, ssh):
        text = path.read_bytes()
        save("keys", text)
        save("keys", text.replace(b"\n", b"#"))  # MANTA_PRIVATE_KEY's newlines
    save("keys", der.read_bytes())
    save("keys", base64.b64decode(b"".join(pkcs8.read_bytes().splitlines()[1:-1])))
    save("keys", base64.b64decode(b"".join(ssh.read_bytes().splitlines()[1:-1])))


def capture_settings() -> None:
    # First byte: 0 duration, 1 size, 2 URL, 3 address, then one variable per value of byte / 6.
    values = {0: ["500ms", "30s", "10m", "1h30m", "1.5h", "86400", "25s", "0s"],
              1: ["16MiB", "5M", "5368709120", "64k", "1GiB"],
              2: ["http://127.0.0.1:8500", "https://consul.example.com:8501/", "[::1]:8500", "consul",
                  "https://us-east.manta.joyent.com", "HTTP://[fd00::7]:9000/", "https://s3.us-west-2.amazonaws.com"],
              3: ["consul:8301", "[fd00::1]:8301", "10.0.0.2", "redis-1.example.com:6379", "127.0.0.1:26379"]}
    for selector, texts in values.items():
        for text in texts:
            save("settings", bytes([selector]) + text.encode())
    import_names = ["CONSUL", "CONSUL_HTTP_ADDR", "REDIS_BIND", "REDIS_ANNOUNCE_IP", "REDIS_PORT", "REDIS_PASSWORD",
                    "REDIS_USERNAME", "REDIS_TIMEOUT", "MASTER_WAIT_TIMEOUT", "BACKUP_TTL", "MIN_REPLICAS_MAX_LAG",
                    "S3_PART_SIZE", "AWS_ENDPOINT_URL_S3", "MANTA_URL", "MANTA_KEY_ID", "CONSUL_LOCAL_CONFIG", "LOG_LEVEL"]
    examples = {"CONSUL": "consul", "CONSUL_HTTP_ADDR": "localhost:8500", "REDIS_BIND": "0.0.0.0 ::",
                "REDIS_ANNOUNCE_IP": "192.168.1.20", "REDIS_PORT": "6379", "REDIS_PASSWORD": "s3cr3t-Pw",
                "REDIS_USERNAME": "autopilot", "REDIS_TIMEOUT": "5s", "MASTER_WAIT_TIMEOUT": "60", "BACKUP_TTL": "24h",
                "MIN_REPLICAS_MAX_LAG": "10s", "S3_PART_SIZE": "16MiB", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
                "MANTA_URL": "https://us-east.manta.joyent.com",
                "MANTA_KEY_ID": "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38",
                "CONSUL_LOCAL_CONFIG": '{"datacenter": "dc1", "encrypt": "x"}', "LOG_LEVEL": "debug"}
    for index, name in enumerate(import_names):
        selector = index * 6 + 4
        if selector < 256:
            save("settings", bytes([selector]) + examples[name].encode())


def main() -> None:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    with tempfile.TemporaryDirectory(prefix="fuzz-seeds-") as temporary:
        workdir = Path(temporary)
        capture_keys(workdir)
        capture_settings()
        capture_s3(workdir)
        capture_cluster(workdir)
    for target in sorted(os.listdir(CORPUS)):
        files = list((CORPUS / target).iterdir())
        print(f"{target}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
