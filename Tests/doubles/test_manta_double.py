"""The Manta double against requests signed here with `cryptography`.

    python3 -m pytest Tests/doubles/test_manta_double.py
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from manta_double import md5_fingerprint, parse_signature_header  # noqa: E402

DOUBLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manta_double.py")
LOGIN = "alice"
SUBUSER = "backup"
ROLES = ["operator", "writer"]
STARTUP_SECONDS = 15.0
MIB = 1024 * 1024


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        return self.json()["code"]


@dataclass
class DoubleProcess:
    process: subprocess.Popen
    port: int
    control_port: int
    root: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def peak_rss_bytes(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc status")

    def control(self, method: str, path: str) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.control_port, timeout=10)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, body
            return json.loads(body)
        finally:
            connection.close()


def start_double(directory: str, extra: list[str]) -> DoubleProcess:
    root = os.path.join(directory, "root")
    ready = os.path.join(directory, f"ready-{uuid.uuid4().hex}.json")
    process = subprocess.Popen([sys.executable, DOUBLE, "--root", root, "--ready-file", ready, *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not os.path.exists(ready):
        if process.poll() is not None:
            raise AssertionError(f"double exited: {process.stderr.read().decode()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("double did not become ready")
        time.sleep(0.05)
    with open(ready) as handle:
        document = json.load(handle)
    assert document["pid"] == process.pid
    return DoubleProcess(process, document["port"], document["control_port"], root)


class Client:
    """Signs like a Manta client: `date: <Date>` with rsa-sha256."""

    def __init__(self, port: int, key: rsa.RSAPrivateKey, key_id: str):
        self.port = port
        self.key = key
        self.key_id = key_id

    @staticmethod
    def authorization(key: rsa.RSAPrivateKey, key_id: str, date: str, separator: str = ",") -> str:
        signature = key.sign(f"date: {date}".encode(), padding.PKCS1v15(), hashes.SHA256())
        encoded = base64.b64encode(signature).decode()
        return separator.join([f'Signature keyId="{key_id}"', 'algorithm="rsa-sha256"', f'signature="{encoded}"'])

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                date: str | None = None, authorization: str | None = None, sign: bool = True) -> Response:
        headers = dict(headers or {})
        date = date or email.utils.formatdate(usegmt=True)
        headers.setdefault("Date", date)
        if sign:
            headers["Authorization"] = authorization or self.authorization(self.key, self.key_id, date)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            chunked = headers.get("Transfer-Encoding") == "chunked"
            connection.request(method, path, body=body, headers=headers, encode_chunked=chunked)
            response = connection.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def mkdir(self, path: str) -> Response:
        return self.request("PUT", path, headers={"Content-Type": "application/json; type=directory"})

    def put(self, path: str, data: bytes, headers: dict[str, str] | None = None) -> Response:
        return self.request("PUT", path, body=data, headers={"Content-Type": "application/octet-stream",
                                                             **(headers or {})})


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"account": new_key(), "subuser": new_key(), "stranger": new_key()}


@pytest.fixture(scope="module")
def double(keys: dict[str, rsa.RSAPrivateKey]) -> Iterator[DoubleProcess]:
    with tempfile.TemporaryDirectory() as directory:
        # The account key as an OpenSSH line, the subuser's as a PEM private key: both forms load.
        account_pub = os.path.join(directory, "account.pub")
        with open(account_pub, "wb") as handle:
            handle.write(keys["account"].public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) + b" test\n")
        subuser_pem = os.path.join(directory, "subuser.pem")
        with open(subuser_pem, "wb") as handle:
            handle.write(keys["subuser"].private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                                       serialization.NoEncryption()))
        process = start_double(directory, ["--user", LOGIN, "--public-key", account_pub,
                                           "--subuser", SUBUSER, "--subuser-public-key", subuser_pem,
                                           *[arg for role in ROLES for arg in ("--role", role)]])
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture
def client(double: DoubleProcess, keys: dict[str, rsa.RSAPrivateKey]) -> Client:
    return Client(double.port, keys["account"], f"/{LOGIN}/keys/{md5_fingerprint(keys['account'].public_key())}")


@pytest.fixture
def directory(client: Client) -> str:
    """A fresh directory for one test: the double lives for the whole module."""
    path = f"/{LOGIN}/stor/{uuid.uuid4().hex}"
    assert client.mkdir(path).status == 204
    return path


# --- authentication -------------------------------------------------------------------


def test_fingerprint_is_md5_of_ssh_blob_as_ssh_keygen_prints_it(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "key.pub")
        with open(path, "wb") as handle:
            handle.write(keys["account"].public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH))
        out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", path], capture_output=True, check=True,
                             text=True).stdout
    assert f"MD5:{md5_fingerprint(keys['account'].public_key())}" in out


def test_signed_request_is_served(client: Client, directory: str) -> None:
    response = client.request("GET", directory)
    assert response.status == 200
    assert response.headers["result-set-size"] == "0"
    assert response.headers["content-type"] == "application/x-json-stream; type=directory"
    assert response.body == b""


def test_missing_authorization_is_refused(client: Client, directory: str) -> None:
    response = client.request("GET", directory, sign=False)
    assert (response.status, response.code) == (403, "AuthorizationFailed")


def test_signature_by_another_key_is_refused(client: Client, keys: dict[str, rsa.RSAPrivateKey],
                                             directory: str) -> None:
    date = email.utils.formatdate(usegmt=True)
    forged = Client.authorization(keys["stranger"], client.key_id, date)
    response = client.request("GET", directory, date=date, authorization=forged)
    assert (response.status, response.code) == (403, "InvalidSignature")


def test_signature_over_another_date_is_refused(client: Client, directory: str) -> None:
    signed_date = email.utils.formatdate(time.time() - 5, usegmt=True)
    sent_date = email.utils.formatdate(usegmt=True)
    assert signed_date != sent_date
    authorization = Client.authorization(client.key, client.key_id, signed_date)
    response = client.request("GET", directory, date=sent_date, authorization=authorization)
    assert (response.status, response.code) == (403, "InvalidSignature")


def test_damaged_signature_is_refused(client: Client, directory: str) -> None:
    date = email.utils.formatdate(usegmt=True)
    good = Client.authorization(client.key, client.key_id, date)
    head, signature = good.rsplit('signature="', 1)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    response = client.request("GET", directory, date=date, authorization=f'{head}signature="{flipped}')
    assert (response.status, response.code) == (403, "InvalidSignature")


def test_a_date_too_far_ahead_is_refused_by_the_signature_check(client: Client, directory: str) -> None:
    response = client.request("GET", directory, date=email.utils.formatdate(time.time() + 301, usegmt=True))
    assert (response.status, response.code) == (400, "InvalidHeader")
    assert "clock skew" in response.json()["message"]


def test_a_date_too_old_is_refused_by_restify_before_the_signature(client: Client, directory: str) -> None:
    response = client.request("GET", directory, date=email.utils.formatdate(time.time() - 301, usegmt=True),
                              sign=False)
    assert (response.status, response.json()) == (400, {"code": "RequestExpired", "message": "Date header is too old"})


def test_date_within_the_allowed_skew_is_accepted(client: Client, directory: str) -> None:
    response = client.request("GET", directory, date=email.utils.formatdate(time.time() - 250, usegmt=True))
    assert response.status == 200


def test_unparseable_date_is_refused(client: Client, directory: str) -> None:
    response = client.request("GET", directory, date="yesterday at noon")
    assert (response.status, response.code) == (400, "InvalidHeader")


def test_wrong_fingerprint_is_refused(client: Client, keys: dict[str, rsa.RSAPrivateKey],
                                      directory: str) -> None:
    stranger_id = f"/{LOGIN}/keys/{md5_fingerprint(keys['stranger'].public_key())}"
    date = email.utils.formatdate(usegmt=True)
    response = client.request("GET", directory, date=date,
                              authorization=Client.authorization(keys["stranger"], stranger_id, date))
    assert (response.status, response.code) == (403, "KeyDoesNotExist")


def test_sha256_fingerprint_on_the_wire_is_refused(client: Client, keys: dict[str, rsa.RSAPrivateKey],
                                                   directory: str) -> None:
    blob = base64.b64decode(keys["account"].public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1])
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    date = email.utils.formatdate(usegmt=True)
    response = client.request("GET", directory, date=date,
                              authorization=Client.authorization(client.key, f"/{LOGIN}/keys/{fingerprint}", date))
    # A base64 "/" adds a keyId segment: Manta cannot even parse that keyId.
    expected = "InvalidKeyId" if "/" in fingerprint else "KeyDoesNotExist"
    assert (response.status, response.code) == (403, expected)


def test_space_after_comma_is_refused_like_manta_parser(client: Client, directory: str) -> None:
    date = email.utils.formatdate(usegmt=True)
    spaced = Client.authorization(client.key, client.key_id, date, separator=", ")
    response = client.request("GET", directory, date=date, authorization=spaced)
    assert (response.status, response.code) == (400, "InvalidHeader")
    assert "bad param format" in response.json()["message"]


def test_parser_matches_node_http_signature() -> None:
    scheme, params = parse_signature_header('Signature keyId="/a/keys/x",algorithm="rsa-sha256",signature="s="')
    assert scheme == "Signature"
    assert params == {"keyId": "/a/keys/x", "algorithm": "rsa-sha256", "signature": "s="}
    for bad in ['Signature keyId="a", algorithm="b"', 'Signature key_id="a"', 'Signature keyId=a',
                'Signature keyId="a"x', 'Signature ="a"']:
        with pytest.raises(Exception) as caught:
            parse_signature_header(bad)
        assert getattr(caught.value, "code", None) == "InvalidHeader"


@pytest.mark.parametrize("key_id,code", [
    ("alice/keys/00", "InvalidKeyId"),
    ("/alice/keys", "InvalidKeyId"),
    ("/alice/nokeys/00", "InvalidKeyId"),
    ("/alice/a/b/keys/00", "InvalidKeyId"),
    ("/bob/keys/00", "AccountDoesNotExist"),
    ("/alice/nobody/keys/00", "UserDoesNotExist"),
])
def test_malformed_or_unknown_key_ids_are_refused(client: Client, directory: str, key_id: str, code: str) -> None:
    date = email.utils.formatdate(usegmt=True)
    response = client.request("GET", directory, date=date, authorization=Client.authorization(client.key, key_id, date))
    assert (response.status, response.code) == (403, code)


def test_other_accounts_paths_are_refused(client: Client) -> None:
    response = client.request("GET", "/bob/stor")
    assert (response.status, response.code) == (403, "AccountDoesNotExist")


def test_subuser_signs_with_its_own_key(double: DoubleProcess, keys: dict[str, rsa.RSAPrivateKey],
                                        directory: str) -> None:
    fingerprint = md5_fingerprint(keys["subuser"].public_key())
    subuser = Client(double.port, keys["subuser"], f"/{LOGIN}/{SUBUSER}/keys/{fingerprint}")
    assert subuser.put(f"{directory}/by-subuser", b"x").status == 204
    # The subuser's key is not the account's, and the account's is not the subuser's.
    as_account = Client(double.port, keys["subuser"], f"/{LOGIN}/keys/{fingerprint}")
    assert as_account.request("GET", directory).code == "KeyDoesNotExist"
    account_fingerprint = md5_fingerprint(keys["account"].public_key())
    as_subuser = Client(double.port, keys["account"], f"/{LOGIN}/{SUBUSER}/keys/{account_fingerprint}")
    assert as_subuser.request("GET", directory).code == "KeyDoesNotExist"
    records = [r for r in double.control("GET", "/requests") if r["path"] == f"{directory}/by-subuser"]
    assert records[-1]["subuser"] == SUBUSER
    assert records[-1]["keyId"] == fingerprint


def test_role_header_is_recorded_and_checked(double: DoubleProcess, client: Client, directory: str) -> None:
    assert client.request("GET", directory, headers={"Role": "operator,writer"}).status == 200
    records = [r for r in double.control("GET", "/requests") if r["path"] == directory]
    assert records[-1]["role"] == "operator,writer"
    response = client.request("GET", directory, headers={"Role": "operator,admin"})
    assert (response.status, response.code) == (409, "InvalidRole")


def test_rejected_upload_body_is_read_so_the_error_arrives(client: Client, keys: dict[str, rsa.RSAPrivateKey],
                                                           directory: str) -> None:
    date = email.utils.formatdate(usegmt=True)
    forged = Client.authorization(keys["stranger"], client.key_id, date)
    response = client.request("PUT", f"{directory}/big", body=b"z" * (8 * MIB), date=date, authorization=forged,
                              headers={"Content-Type": "application/octet-stream"})
    assert (response.status, response.code) == (403, "InvalidSignature")
    assert client.request("GET", f"{directory}/big").status == 404


# --- objects and directories ----------------------------------------------------------------


def test_object_round_trip_with_headers(client: Client, double: DoubleProcess, directory: str) -> None:
    data = os.urandom(100_000)
    put = client.put(f"{directory}/obj", data, headers={"Content-MD5": md5_base64(data), "durability-level": "3"})
    assert put.status == 204
    assert put.headers["computed-md5"] == md5_base64(data)
    assert put.headers["etag"]
    got = client.request("GET", f"{directory}/obj")
    assert got.status == 200
    assert got.body == data
    assert got.headers["content-md5"] == md5_base64(data)
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["etag"] == put.headers["etag"]
    assert got.headers["durability-level"] == "3"
    head = client.request("HEAD", f"{directory}/obj")
    assert (head.status, head.body, head.headers["content-md5"]) == (200, b"", md5_base64(data))
    with open(os.path.join(double.root, directory.lstrip("/"), "obj"), "rb") as stored:
        assert stored.read() == data


def test_accept_header_is_negotiated_for_objects_only(client: Client, directory: str) -> None:
    assert client.put(f"{directory}/gz", b"x", headers={"Content-Type": "application/gzip"}).status == 204
    listing_type = "application/x-json-stream; type=directory"
    response = client.request("GET", f"{directory}/gz", headers={"Accept": listing_type})
    assert (response.status, response.code) == (406, "NotAcceptable")
    for accept in ("*/*", "application/*", "text/plain, application/gzip;q=0.5"):
        assert client.request("GET", f"{directory}/gz", headers={"Accept": accept}).body == b"x"
    assert client.request("GET", directory, headers={"Accept": listing_type}).status == 200


def test_zero_byte_object(client: Client, directory: str) -> None:
    put = client.put(f"{directory}/empty", b"")
    assert (put.status, put.headers["computed-md5"]) == (204, md5_base64(b""))
    got = client.request("GET", f"{directory}/empty")
    assert (got.status, got.body, got.headers["content-length"]) == (200, b"", "0")


def test_overwrite_replaces_object(client: Client, directory: str) -> None:
    assert client.put(f"{directory}/o", b"first").status == 204
    assert client.put(f"{directory}/o", b"second").status == 204
    assert client.request("GET", f"{directory}/o").body == b"second"


def test_chunked_upload(client: Client, directory: str) -> None:
    pieces = [os.urandom(70_000) for _ in range(5)]
    response = client.request("PUT", f"{directory}/chunked", body=iter(pieces),
                              headers={"Content-Type": "application/gzip", "Transfer-Encoding": "chunked"})
    assert response.status == 204
    assert response.headers["computed-md5"] == md5_base64(b"".join(pieces))
    got = client.request("GET", f"{directory}/chunked")
    assert got.body == b"".join(pieces)
    assert got.headers["content-type"] == "application/gzip"


def test_content_md5_mismatch_is_refused_and_nothing_stored(client: Client, directory: str) -> None:
    response = client.put(f"{directory}/bad", b"payload", headers={"Content-MD5": md5_base64(b"other")})
    assert (response.status, response.code) == (400, "ContentMD5Mismatch")
    assert client.request("GET", f"{directory}/bad").code == "ResourceNotFound"


def test_bad_durability_level_is_refused(client: Client, directory: str) -> None:
    for value in ("0", "10", "two"):
        response = client.put(f"{directory}/d", b"x", headers={"durability-level": value})
        assert (response.status, response.code) == (400, "InvalidDurabilityLevel")


def test_object_under_missing_directory_is_refused(client: Client, directory: str) -> None:
    response = client.put(f"{directory}/missing/obj", b"x")
    assert (response.status, response.code) == (404, "DirectoryDoesNotExist")
    response = client.mkdir(f"{directory}/missing/deeper")
    assert (response.status, response.code) == (404, "DirectoryDoesNotExist")


def test_directories_nest_and_mkdir_is_idempotent(client: Client, double: DoubleProcess, directory: str) -> None:
    assert client.mkdir(f"{directory}/a").status == 204
    assert client.mkdir(f"{directory}/a").status == 204
    assert client.mkdir(f"{directory}/a/b").status == 204
    assert client.put(f"{directory}/a/b/obj", b"deep").status == 204
    assert os.path.isdir(os.path.join(double.root, directory.lstrip("/"), "a", "b"))
    assert client.mkdir(f"/{LOGIN}/stor").status == 204


def test_object_cannot_replace_directory_or_be_a_parent(client: Client, directory: str) -> None:
    assert client.mkdir(f"{directory}/dir").status == 204
    assert client.put(f"{directory}/dir", b"x").code == "OperationNotAllowedOnDirectory"
    assert client.put(f"{directory}/file", b"x").status == 204
    assert client.put(f"{directory}/file/child", b"x").code == "ParentNotDirectory"


def test_delete(client: Client, double: DoubleProcess, directory: str) -> None:
    assert client.put(f"{directory}/obj", b"x").status == 204
    response = client.request("DELETE", directory)
    assert (response.status, response.code) == (400, "DirectoryNotEmpty")
    assert client.request("DELETE", f"{directory}/obj").status == 204
    response = client.request("DELETE", f"{directory}/obj")
    assert (response.status, response.code) == (404, "ResourceNotFound")
    assert client.request("GET", f"{directory}/obj").code == "ResourceNotFound"
    assert client.request("DELETE", directory).status == 204
    assert not os.path.exists(os.path.join(double.root, directory.lstrip("/")))
    assert client.request("DELETE", f"/{LOGIN}/stor").code == "OperationNotAllowedOnRootDirectory"


def test_invalid_paths_are_refused(client: Client) -> None:
    for path in (f"/{LOGIN}/stor/../stor", f"/{LOGIN}/stor//x", f"/{LOGIN}/stor/%ff"):
        response = client.request("GET", path)
        assert (response.status, response.code) == (400, "InvalidResource"), path


def test_listing_pages_with_limit_and_inclusive_marker(client: Client, directory: str) -> None:
    names = ["e", "a", "c", "b", "d"]
    for name in names:
        assert client.put(f"{directory}/{name}", name.encode() * 3).status == 204
    assert client.mkdir(f"{directory}/sub").status == 204
    first = client.request("GET", f"{directory}?limit=2")
    assert first.headers["result-set-size"] == "6"
    entries = [json.loads(line) for line in first.body.splitlines()]
    assert [e["name"] for e in entries] == ["a", "b"]
    assert entries[0]["type"] == "object"
    assert entries[0]["size"] == 3
    assert entries[0]["contentMD5"] == md5_base64(b"aaa")
    assert entries[0]["etag"]
    assert entries[0]["mtime"].endswith("Z")
    second = client.request("GET", f"{directory}?limit=2&marker=b")
    assert [json.loads(line)["name"] for line in second.body.splitlines()] == ["b", "c"]
    last = client.request("GET", f"{directory}?marker=d")
    entries = [json.loads(line) for line in last.body.splitlines()]
    assert [e["name"] for e in entries] == ["d", "e", "sub"]
    assert entries[-1] == {"name": "sub", "type": "directory", "mtime": entries[-1]["mtime"]}


@pytest.mark.parametrize("limit", ["0", "1025", "x"])
def test_invalid_limit_is_refused(client: Client, directory: str, limit: str) -> None:
    response = client.request("GET", f"{directory}?limit={limit}")
    assert (response.status, response.code) == (400, "InvalidArgumentError")


# --- control hooks and streaming ---------------------------------------------------------


def test_fail_after_bytes_cuts_the_next_upload(client: Client, double: DoubleProcess, directory: str) -> None:
    double.control("POST", "/fail-after-bytes?bytes=100000")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        client.put(f"{directory}/cut", os.urandom(4 * MIB))
    assert client.request("GET", f"{directory}/cut").code == "ResourceNotFound"
    assert os.listdir(os.path.join(double.root, ".uploads")) == []
    # Only the next upload was cut.
    assert client.put(f"{directory}/cut", b"whole").status == 204


def test_slow_upload_reads_the_next_upload_at_the_given_rate(client: Client, double: DoubleProcess,
                                                             directory: str) -> None:
    double.control("POST", "/slow-upload?bytes_per_second=1048576")
    data = os.urandom(MIB + MIB // 2)
    started = time.monotonic()
    assert client.put(f"{directory}/slow", data).status == 204
    assert time.monotonic() - started >= 1.0, "1.5 MiB at 1 MiB/s took less than a second"
    assert client.request("GET", f"{directory}/slow").body == data
    started = time.monotonic()
    assert client.put(f"{directory}/fast", data).status == 204
    assert time.monotonic() - started < 1.0, "only the next upload is slow"


def test_corrupt_next_upload_changes_computed_md5(client: Client, double: DoubleProcess, directory: str) -> None:
    double.control("POST", "/corrupt-next-upload")
    data = b"abcdef"
    response = client.put(f"{directory}/damaged", data)
    assert response.status == 204
    assert response.headers["computed-md5"] != md5_base64(data)
    assert client.request("GET", f"{directory}/damaged").body == b"\x9ebcdef"


def test_fail_after_bytes_flag_cuts_the_first_upload(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        pub = os.path.join(directory, "account.pub")
        with open(pub, "wb") as handle:
            handle.write(keys["account"].public_key().public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH))
        process = start_double(directory, ["--user", LOGIN, "--public-key", pub, "--fail-after-bytes", "10"])
        try:
            cli = Client(process.port, keys["account"], f"/{LOGIN}/keys/{md5_fingerprint(keys['account'].public_key())}")
            with pytest.raises((ConnectionError, http.client.HTTPException)):
                cli.put(f"/{LOGIN}/stor/first", os.urandom(MIB))
            assert cli.put(f"/{LOGIN}/stor/second", b"ok").status == 204
        finally:
            process.stop()


def generated(total: int, seed: bytes) -> Iterator[bytes]:
    block = hashlib.sha256(seed).digest() * 2048  # 64 KiB
    sent = 0
    while sent < total:
        piece = block[:min(len(block), total - sent)]
        sent += len(piece)
        yield piece


def test_200_mb_streams_through_without_holding_it_in_memory(client: Client, double: DoubleProcess,
                                                             directory: str) -> None:
    total = 200 * MIB
    expected = hashlib.md5()
    for piece in generated(total, b"seed"):
        expected.update(piece)
    response = client.request("PUT", f"{directory}/big", body=generated(total, b"seed"),
                              headers={"Content-Type": "application/octet-stream",
                                       "Content-Length": str(total)})
    assert response.status == 204
    assert response.headers["computed-md5"] == base64.b64encode(expected.digest()).decode()

    date = email.utils.formatdate(usegmt=True)
    connection = http.client.HTTPConnection("127.0.0.1", double.port, timeout=60)
    try:
        connection.request("GET", f"{directory}/big", headers={
            "Date": date, "Authorization": Client.authorization(client.key, client.key_id, date)})
        got = connection.getresponse()
        assert got.status == 200
        received = hashlib.md5()
        count = 0
        while piece := got.read(MIB):
            received.update(piece)
            count += len(piece)
    finally:
        connection.close()
    assert count == total
    assert received.digest() == expected.digest()
    assert double.peak_rss_bytes() < 100 * MIB


# --- Manta's bad days: injected faults, storage space, streamed listings --------------------


@pytest.mark.parametrize("code,status,retry_after", [
    ("ServiceUnavailable", 503, None), ("ThrottledError", 503, None), ("SharksExhaustedError", 503, "30"),
    ("InternalError", 500, None), ("NotEnoughSpace", 507, None)])
def test_injected_faults_answer_as_manta_does(client: Client, double: DoubleProcess, directory: str,
                                              code: str, status: int, retry_after: str | None) -> None:
    query = f"/faults?code={code}&method=PUT" + (f"&retry_after={retry_after}" if retry_after else "")
    double.control("POST", query)
    assert client.request("GET", directory).status == 200, "a GET took a fault armed for PUT"
    refused = client.put(f"{directory}/object", b"data")
    assert (refused.status, refused.code) == (status, code)
    assert refused.headers.get("retry-after") == retry_after
    assert client.request("GET", f"{directory}/object").status == 404
    assert client.put(f"{directory}/object", b"data").status == 204, "the fault outlived its count"


def test_a_fault_can_repeat_and_be_cleared(client: Client, double: DoubleProcess, directory: str) -> None:
    double.control("POST", "/faults?code=ServiceUnavailable&count=2")
    assert [client.request("GET", directory).status for _ in range(3)] == [503, 503, 200]
    double.control("POST", "/faults?code=InternalError&count=5")
    double.control("DELETE", "/faults")
    assert client.request("GET", directory).status == 200


def test_listings_are_streamed_chunked(client: Client, directory: str) -> None:
    assert client.put(f"{directory}/a", b"1").status == 204
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
    try:
        date = email.utils.formatdate(usegmt=True)
        connection.request("GET", directory, headers={"Date": date,
                                                      "Authorization": client.authorization(client.key, client.key_id, date)})
        response = connection.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        assert json.loads(response.read())["name"] == "a"
    finally:
        connection.close()


@pytest.fixture(scope="module")
def small_manta(keys: dict[str, rsa.RSAPrivateKey]) -> Iterator[DoubleProcess]:
    """Storage nodes with 100 MB free; a subuser with a `writer` role (put only) tagged on
    /alice/stor, and a `reader` role it is not a member of."""
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for who in ("account", "subuser"):
            paths[who] = os.path.join(directory, f"{who}.pem")
            with open(paths[who], "wb") as handle:
                handle.write(keys[who].private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                                     serialization.NoEncryption()))
        process = start_double(directory, [
            "--user", LOGIN, "--public-key", paths["account"], "--subuser", SUBUSER,
            "--subuser-public-key", paths["subuser"], "--role", "writer=putobject,putdirectory",
            "--role", "reader=getobject,getdirectory", "--subuser-role", "writer",
            "--role-tag", f"/{LOGIN}/stor=writer", "--free-space-mb", "100"])
        try:
            yield process
        finally:
            process.stop()


def clients_of(manta: DoubleProcess, keys: dict[str, rsa.RSAPrivateKey]) -> tuple[Client, Client]:
    account = Client(manta.port, keys["account"], f"/{LOGIN}/keys/{md5_fingerprint(keys['account'].public_key())}")
    subuser = Client(manta.port, keys["subuser"],
                     f"/{LOGIN}/{SUBUSER}/keys/{md5_fingerprint(keys['subuser'].public_key())}")
    return account, subuser


def test_a_chunked_upload_without_max_content_length_needs_5_gib(small_manta: DoubleProcess,
                                                               keys: dict[str, rsa.RSAPrivateKey]) -> None:
    account, _ = clients_of(small_manta, keys)
    chunked = {"Transfer-Encoding": "chunked"}
    refused = account.put(f"/{LOGIN}/stor/streamed", iter([b"x" * 1000]), headers=chunked)
    assert (refused.status, refused.code) == (507, "NotEnoughSpace")
    assert refused.json()["message"] == "not enough free space for 5120 MB"
    declared = account.put(f"/{LOGIN}/stor/streamed", iter([b"x" * 1000]),
                           headers={**chunked, "Max-Content-Length": str(20 * MIB)})
    assert declared.status == 204
    too_big = account.put(f"/{LOGIN}/stor/sized", b"x", headers={"Max-Content-Length": "1"})
    assert too_big.status == 204, "Max-Content-Length counts only for a chunked body"
    large = account.request("PUT", f"/{LOGIN}/stor/large", body=b"x" * (101 * MIB),
                            headers={"Content-Type": "application/octet-stream"})
    assert (large.status, large.code) == (507, "NotEnoughSpace")


def test_a_subuser_acts_only_through_its_roles_and_the_tags(small_manta: DoubleProcess,
                                                            keys: dict[str, rsa.RSAPrivateKey]) -> None:
    account, subuser = clients_of(small_manta, keys)
    assert subuser.put(f"/{LOGIN}/stor/by-writer", b"x").status == 204
    listing = subuser.request("GET", f"/{LOGIN}/stor")
    assert (listing.status, listing.code) == (403, "AuthorizationFailed")
    assert subuser.request("GET", f"/{LOGIN}/stor/by-writer").status == 403
    foreign = subuser.request("GET", f"/{LOGIN}/stor", headers={"Role": "reader"})
    assert (foreign.status, foreign.code) == (409, "InvalidRole"), "a role the subuser is not a member of"
    assert subuser.put(f"/{LOGIN}/stor/x", b"x", headers={"Role": "nosuch"}).code == "InvalidRole"
    # A directory made without tags grants the subuser nothing under it.
    assert account.mkdir(f"/{LOGIN}/stor/untagged").status == 204
    assert subuser.put(f"/{LOGIN}/stor/untagged/x", b"x").status == 403
    assert account.request("PUT", f"/{LOGIN}/stor/tagged", headers={
        "Content-Type": "application/json; type=directory", "Role-Tag": "writer"}).status == 204
    assert subuser.put(f"/{LOGIN}/stor/tagged/x", b"x").status == 204
    assert account.request("GET", f"/{LOGIN}/stor", headers={"Role": "reader"}).status == 200
