#!/usr/bin/env python3
"""A Manta storage API double that checks every request's HTTP signature.

    python3 Tests/doubles/manta_double.py --root DIR --user LOGIN --public-key PATH \
        [--subuser NAME --subuser-public-key PATH] [--role NAME[=ACTION,...] ...] \
        [--subuser-role NAME ...] [--role-tag PATH=ROLE,...] [--free-space-mb MB] \
        [--fail-after-bytes N] [--ready-file PATH] [--verbose]

Listens on a free 127.0.0.1 port (the API) and a second one (the control API, no
authentication). Once both listen, `{"port": P, "control_port": C, "pid": N}` is written
atomically to --ready-file and printed on stdout. SIGTERM or Ctrl-C stops it.

Authentication follows Manta's (muskie with node-http-signature's parser):
`Authorization: Signature keyId="/LOGIN/keys/FP",algorithm="rsa-sha256",signature="B64"`,
or `/LOGIN/SUBUSER/keys/FP` for a subuser, FP being the MD5 colon-hex fingerprint of the
registered key. The parameters are separated by a bare comma: a space is a parse error
there, as in Manta. Without `headers=` the signed string is `date: <Date>`. A Date more
than 300 s old is 400 `RequestExpired` before any signature check (restify's dateParser),
one more than 300 s ahead 400 `InvalidHeader` (node-http-signature's clock skew). The
signature is verified by OpenSSL through `cryptography`.

Objects: directories are made with PUT and `content-type: application/json; type=directory`
(204); an object PUT under a missing directory is 404 `DirectoryDoesNotExist`;
`Content-MD5` is checked (400 `ContentMD5Mismatch`); the PUT answer (204) carries
`Computed-MD5`, `Etag` and `Last-Modified`. GET and HEAD give `Content-MD5`,
`Content-Length`, `Content-Type`, `Etag` and `Durability-Level` (406 `NotAcceptable` when an
`Accept` header excludes the object's type, as muskie negotiates); a directory GET is JSON
lines, streamed chunked, with `Result-Set-Size` (entries in the directory) and `limit`
(1..1024, default 256) / `marker` paging, the marker entry itself included, as Manta does.
Errors are JSON `{"code": ..., "message": ...}`. With --free-space-mb, an object PUT that
needs more room than that is 507 `NotEnoughSpace` before its body is read: room for its
Content-Length, or when chunked for its `Max-Content-Length`, 5 GiB without one.

Object bytes live under --root at the object's Manta path (`ROOT/LOGIN/stor/...`), so a
test can damage a stored object; metadata (MD5, type, mtime) is kept in memory. Bodies
are streamed in pieces both ways: no object is ever held in memory.

Control API (on the control port):

| request | effect |
|---|---|
| `GET /requests` | every API request so far: method, path, status, account, subuser, role, keyId |
| `DELETE /requests` | forget them |
| `POST /fail-after-bytes?bytes=N` | the next object upload is cut (connection closed, nothing stored) after N body bytes |
| `POST /slow-upload?bytes_per_second=N` | the next object upload's body is read no faster than N bytes a second (a slow link: a test can stop the sender mid-upload) |
| `POST /corrupt-next-upload` | the next object upload is stored with its first byte changed, as if damaged in transit: its `Computed-MD5` differs from the sender's |
| `POST /faults?code=C[&count=N][&method=M][&retry_after=S][&status=X][&message=T]` | the next N (1) authenticated requests (of method M) are answered with Manta's error C: `ServiceUnavailable`, `ThrottledError` (503), `SharksExhaustedError` (503, give `retry_after=30` as Manta does), `InternalError` (500), `NotEnoughSpace` (507), or any code with `status=` |
| `DELETE /faults` | forget the faults not yet served |

Where the double departs from Manta, on purpose: a Date that cannot be parsed is refused
by the signature check (Manta's JavaScript Date would let it through). Roles: without
--role any Role header is accepted and only recorded, and a subuser may do what the
account may. With --role, a Role header naming a role the caller may not take is 409
`InvalidRole`; a role given as `NAME=action,...` allows a subuser those actions on paths
tagged with it (the parent directory's tags for a PUT, set with a `Role-Tag` header or
--role-tag), a role given as `NAME` alone allows everything. Control endpoints
`POST /faults?code=...` and --free-space-mb model Manta's bad days (see the README).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import email.utils
import hashlib
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ADDRESS = "127.0.0.1"
CLOCK_SKEW_SECONDS = 300
PIECE = 256 * 1024
DIRECTORY_CONTENT_TYPE = "application/x-json-stream; type=directory"
DIRECTORY_PUT_TYPES = {"application/json; type=directory", "application/x-json-stream; type=directory"}
MIB = 1024 * 1024
MIN_COPIES = 1
DEFAULT_COPIES = 2
MAX_COPIES = 9
DEFAULT_LIMIT = 256
MAX_LIMIT = 1024
# Manta's default cap on a streamed (chunked) upload without max-content-length: 5 GiB.
DEFAULT_MAX_STREAMING_SIZE = 5120 * 1024 * 1024

# The algorithms node-http-signature parses, and those muskie accepts.
KNOWN_ALGORITHMS = {f"{key}-{digest}" for key in ("rsa", "dsa", "ecdsa")
                    for digest in ("sha1", "sha256", "sha384", "sha512")} | {
    "hmac-sha1", "hmac-sha256", "hmac-sha512"}
ACCEPTED_ALGORITHMS = {"rsa-sha1", "rsa-sha256", "rsa-sha384", "rsa-sha512",
                       "dsa-sha1", "dsa-sha256", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512"}
RSA_HASHES = {"rsa-sha1": hashes.SHA1, "rsa-sha256": hashes.SHA256,
              "rsa-sha384": hashes.SHA384, "rsa-sha512": hashes.SHA512}


class MantaError(Exception):
    """An answer Manta gives as `{"code": ..., "message": ...}`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class DropConnection(Exception):
    """The test asked for the connection to be cut without an answer."""


def invalid_header(message: str) -> MantaError:
    # muskie wraps every node-http-signature parse error in restify's InvalidHeaderError.
    return MantaError(400, "InvalidHeader", f"Invalid Signature Authorization header: {message}")


def md5_fingerprint(public_key: Any) -> str:
    """MD5 of the SSH wire form of the key, as colon-separated hex (ssh-keygen -E md5)."""
    line = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return ":".join(f"{byte:02x}" for byte in hashlib.md5(blob).digest())


def load_public_key(path: str) -> Any:
    """A public key from an OpenSSH `.pub` line, a PEM public key or a PEM/OpenSSH private key."""
    with open(path, "rb") as handle:
        data = handle.read()
    stripped = data.strip()
    if stripped.startswith(b"ssh-"):
        return serialization.load_ssh_public_key(stripped)
    if b"PUBLIC KEY" in stripped:
        return serialization.load_pem_public_key(stripped)
    if b"OPENSSH PRIVATE KEY" in stripped:
        return serialization.load_ssh_private_key(stripped, password=None).public_key()
    return serialization.load_pem_private_key(stripped, password=None).public_key()


def parse_signature_header(value: str) -> tuple[str, dict[str, str]]:
    """node-http-signature's parser, state for state: `Scheme name="value",name="value"`.

    Names are letters only and follow a comma directly: a space after a comma is
    'bad param format', which is why clients must not put one there.
    """
    scheme, params = "", {}
    state, substate = "scheme", "name"
    name, current = "", ""
    for char in value:
        if state == "scheme":
            if char != " ":
                scheme += char
            else:
                state = "params"
            continue
        if substate == "name":
            if ("A" <= char <= "Z") or ("a" <= char <= "z"):
                name += char
            elif char == "=" and name:
                substate = "quote"
            else:
                raise invalid_header("bad param format")
        elif substate == "quote":
            if char != '"':
                raise invalid_header("bad param format")
            current = ""
            substate = "value"
        elif substate == "value":
            if char == '"':
                params[name] = current
                substate = "comma"
            else:
                current += char
        elif char == ",":
            name = ""
            substate = "name"
        else:
            raise invalid_header("bad param format")
    return scheme, params


@dataclass
class Principal:
    account: str
    subuser: str | None
    key_id: str
    # The roles the request acts with: its Role header, else the subuser's default roles.
    roles: list[str] = field(default_factory=list)


# Manta's access policy actions for what the double serves.
ACTIONS = ("getobject", "putobject", "putdirectory", "getdirectory", "deleteobject", "deletedirectory")


@dataclass
class Role:
    name: str
    # None: a role named with --role NAME alone, which allows everything everywhere (as if
    # its policy allowed every action and every path were tagged with it).
    actions: set[str] | None


def parse_role(text: str) -> Role:
    """`NAME` or `NAME=action,action` (Manta policy actions, e.g. putobject)."""
    name, _, actions = text.partition("=")
    if not name:
        raise ValueError(f"--role {text!r}: no role name")
    if not _:
        return Role(name, None)
    wanted = {a.strip().lower() for a in actions.split(",") if a.strip()}
    unknown = wanted - set(ACTIONS)
    if unknown:
        raise ValueError(f"--role {text!r}: unknown actions {sorted(unknown)} (known: {', '.join(ACTIONS)})")
    return Role(name, wanted)


class KeyRing:
    """The one account of the double, its key and its subuser's key, and the roles.

    Roles as mahi and muskie apply them (simplified): every name in a `Role` header must be
    a role the caller may take, else 409 `InvalidRole` (the account may take any of its
    roles, a subuser only those it is a member of); without the header a subuser acts with
    its default roles (all it is a member of). The account may do anything; a subuser may
    do an action on a path only through an active role that grants the action and is in
    the role tags of the path, or of its parent directory when the action creates it."""

    def __init__(self, login: str, account_key: Any, subuser: str | None, subuser_key: Any,
                 roles: list[Role] | None, subuser_roles: list[str] | None = None):
        self.login = login
        self.keys: dict[str | None, dict[str, Any]] = {None: {md5_fingerprint(account_key): account_key}}
        if subuser is not None:
            self.keys[subuser] = {md5_fingerprint(subuser_key): subuser_key}
        self.roles = {role.name: role for role in roles} if roles else None
        self.subuser_roles = set(subuser_roles) if subuser_roles is not None else set(self.roles or ())
        unknown = self.subuser_roles - set(self.roles or ())
        if unknown:
            raise ValueError(f"--subuser-role names roles no --role defines: {sorted(unknown)}")

    def authenticate(self, method: str, target: str, headers: Any, path: str) -> Principal:
        authorization = headers.get("authorization")
        if not authorization:
            raise MantaError(403, "AuthorizationFailed", f"anonymous is not allowed to access {path}")
        if authorization.split(" ", 1)[0].lower() != "signature":
            raise MantaError(403, "AuthorizationSchemeNotAllowed",
                             f"{authorization.split(' ', 1)[0].lower()} is not allowed (use 'signature')")
        scheme, params = parse_signature_header(authorization)
        date_header = "x-date" if headers.get("x-date") else "date"
        signed_headers = params["headers"].split(" ") if params.get("headers") else [date_header]
        if scheme != "Signature":
            raise invalid_header('scheme was not "Signature"')
        for required in ("keyId", "algorithm", "signature"):
            if not params.get(required):
                raise invalid_header(f"{required} was not specified")
        algorithm = params["algorithm"].lower()
        if algorithm not in KNOWN_ALGORITHMS:
            raise invalid_header(f"{algorithm} is not supported")
        signing_string = self.signing_string(method, target, headers, signed_headers)
        self.check_date(headers)
        if date_header not in [name.lower() for name in signed_headers]:
            raise invalid_header(f"{date_header} was not a signed header")
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise MantaError(401, "InvalidAlgorithm",
                             f"{algorithm.upper()} is not a supported signing algorithm.")
        principal = self.principal(params["keyId"])
        key = self.keys[principal.subuser].get(principal.key_id)
        if key is None:
            owner = f"/{principal.account}/{principal.subuser}" if principal.subuser else f"/{principal.account}"
            raise MantaError(403, "KeyDoesNotExist", f"{owner}/keys/{principal.key_id} does not exist")
        if not self.verify(key, algorithm, params["signature"], signing_string):
            raise MantaError(403, "InvalidSignature", "The signature we calculated does not match the one you sent")
        principal.roles = self.active_roles(principal, headers.get("role"))
        return principal

    @staticmethod
    def signing_string(method: str, target: str, headers: Any, names: list[str]) -> bytes:
        lines = []
        for raw in names:
            name = raw.lower()
            if name == "(request-target)":
                lines.append(f"(request-target): {method.lower()} {target}")
            elif name == "request-line":
                lines.append(f"{method} {target} HTTP/1.1")
            else:
                value = headers.get(name)
                if value is None:
                    raise invalid_header(f"{name} was not in the request")
                lines.append(f"{name}: {value}")
        return "\n".join(lines).encode("utf-8")

    @staticmethod
    def check_date(headers: Any) -> None:
        value = headers.get("x-date") or headers.get("date")
        if value is None:
            raise invalid_header("date was not in the request")
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise invalid_header(f"date {value!r} is not an RFC 1123 date") from None
        if when.tzinfo is None:
            raise invalid_header(f"date {value!r} has no time zone")
        skew = abs(time.time() - when.timestamp())
        if skew > CLOCK_SKEW_SECONDS:
            raise invalid_header(f"clock skew of {skew:.3f}s was greater than {CLOCK_SKEW_SECONDS}s")

    @staticmethod
    def check_date_age(headers: Any) -> None:
        """restify's dateParser, which muskie runs before authentication: a Date header more
        than 300 s in the past is 400 RequestExpired. One in the future passes here and is
        refused by the signature check's clock skew (InvalidHeader)."""
        value = headers.get("date")
        if value is None:
            return
        try:
            sent = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return  # a JavaScript Date that does not parse compares false: let it through
        if time.time() - sent > CLOCK_SKEW_SECONDS:
            raise MantaError(400, "RequestExpired", "Date header is too old")

    def principal(self, key_id: str) -> Principal:
        parts = key_id.split("/")
        invalid = MantaError(403, "InvalidKeyId", "the KeyId token you provided is invalid")
        try:
            if len(parts) == 4 and parts[0] == "" and parts[2] == "keys":
                account, subuser, fingerprint = urllib.parse.unquote(parts[1]), None, urllib.parse.unquote(parts[3])
            elif len(parts) == 5 and parts[0] == "" and parts[3] == "keys":
                account, subuser = urllib.parse.unquote(parts[1]), urllib.parse.unquote(parts[2])
                fingerprint = urllib.parse.unquote(parts[4])
                if subuser == "":
                    raise invalid
            else:
                raise invalid
        except UnicodeDecodeError:
            raise invalid from None
        if account == "" or fingerprint == "":
            raise invalid
        if account != self.login:
            raise MantaError(403, "AccountDoesNotExist", f"{account} does not exist")
        if subuser is not None and subuser not in self.keys:
            raise MantaError(403, "UserDoesNotExist", f"{account}/{subuser} does not exist")
        return Principal(account, subuser, fingerprint)

    @staticmethod
    def verify(key: Any, algorithm: str, signature: str, signed: bytes) -> bool:
        if algorithm not in RSA_HASHES or not isinstance(key, rsa.RSAPublicKey):
            return False
        try:
            raw = base64.b64decode(signature, validate=True)
            key.verify(raw, signed, padding.PKCS1v15(), RSA_HASHES[algorithm]())
        except (InvalidSignature, ValueError):
            return False
        return True

    def active_roles(self, principal: Principal, value: str | None) -> list[str]:
        if self.roles is None:
            return []
        if not value:
            return sorted(self.subuser_roles) if principal.subuser else []
        names = [part.strip() for part in value.split(",") if part.strip()]
        for role in names:
            allowed = role in self.roles and (principal.subuser is None or role in self.subuser_roles)
            if not allowed:
                raise MantaError(409, "InvalidRole", f'Role "{role}" is invalid.')
        return names

    def authorize(self, principal: Principal, action: str, path: str, tags: set[str]) -> None:
        """`tags`: the role tags of the resource the action is checked against."""
        if principal.subuser is None or self.roles is None:
            return
        for name in principal.roles:
            actions = self.roles[name].actions
            if actions is None or (name in tags and action in actions):
                return
        raise MantaError(403, "AuthorizationFailed",
                         f"{principal.subuser} is not allowed to access {path}")


@dataclass
class Entry:
    type: str  # "object" or "directory"
    mtime: float
    size: int = 0
    md5: str = ""
    etag: str = ""
    content_type: str = ""
    durability: int = 0
    role_tags: set[str] = field(default_factory=set)

    def listing(self, name: str) -> dict[str, Any]:
        mtime = datetime.datetime.fromtimestamp(self.mtime, datetime.timezone.utc)
        stamp = mtime.strftime("%Y-%m-%dT%H:%M:%S.") + f"{mtime.microsecond // 1000:03d}Z"
        if self.type == "directory":
            return {"name": name, "type": "directory", "mtime": stamp}
        return {"name": name, "etag": self.etag, "size": self.size, "type": "object",
                "contentType": self.content_type, "contentMD5": self.md5, "mtime": stamp,
                "durability": self.durability}


@dataclass
class UploadHooks:
    """What the control API arms for the next object upload."""
    fail_after_bytes: int | None = None
    corrupt: bool = False
    # Read the body no faster than this (a slow link), so a test can act mid-upload.
    bytes_per_second: int | None = None


# Manta's own answers for the faults the control API injects (muskie's errors.js).
FAULTS = {
    "ThrottledError": (503, "manta throttled this request"),
    "ServiceUnavailable": (503, "manta is unable to serve this request"),
    "SharksExhaustedError": (503, "No storage nodes available for this request"),
    "InternalError": (500, "An unknown error occurred"),
    "NotEnoughSpace": (507, "not enough free space for 5120 MB"),
}


@dataclass
class Fault:
    """The next `count` requests (of `method`, if given) are answered with this error."""
    status: int
    code: str
    message: str
    count: int
    method: str | None = None
    retry_after: str | None = None


class Namespace:
    """The account's tree: metadata in memory, object bytes on disk at ROOT/<path>."""

    def __init__(self, root: str, login: str):
        self.root = os.path.abspath(root)
        self.login = login
        self.lock = threading.Lock()
        self.roots = {f"/{login}", f"/{login}/stor", f"/{login}/public"}
        now = time.time()
        self.entries: dict[str, Entry] = {path: Entry("directory", now) for path in self.roots}
        self.children: dict[str, set[str]] = {path: set() for path in self.roots}
        self.children[f"/{login}"] = {"stor", "public"}
        self.uploads = os.path.join(self.root, ".uploads")
        os.makedirs(self.uploads, exist_ok=True)
        for path in self.roots:
            os.makedirs(self.disk_path(path), exist_ok=True)

    def disk_path(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def normalize(self, raw_path: str) -> str:
        try:
            path = urllib.parse.unquote(raw_path, errors="strict")
        except UnicodeDecodeError:
            raise MantaError(400, "InvalidResource", f'"{raw_path}" is invalid') from None
        path = path.rstrip("/")
        segments = path.split("/")
        if (not path.startswith("/") or any(s in ("", ".", "..") for s in segments[1:])
                or "\0" in path):
            raise MantaError(400, "InvalidResource", f'"{raw_path}" is invalid')
        if segments[1] != self.login:
            raise MantaError(403, "AccountDoesNotExist", f"{segments[1]} does not exist")
        if len(segments) > 2 and f"/{self.login}/{segments[2]}" not in self.roots:
            raise MantaError(404, "ResourceNotFound", f"{path} was not found")
        return path

    @staticmethod
    def parent(path: str) -> str:
        return path.rsplit("/", 1)[0]

    def lookup(self, path: str) -> Entry:
        with self.lock:
            entry = self.entries.get(path)
        if entry is None:
            raise MantaError(404, "ResourceNotFound", f"{path} was not found")
        return entry

    def check_parent(self, path: str) -> None:
        """Called with the lock held: the parent must exist and be a directory."""
        parent = self.entries.get(self.parent(path))
        if parent is None:
            raise MantaError(404, "DirectoryDoesNotExist", f"{self.parent(path)} does not exist")
        if parent.type != "directory":
            raise MantaError(400, "ParentNotDirectory", f"{self.parent(path)} is not a directory")

    def tags_of(self, path: str) -> set[str]:
        with self.lock:
            entry = self.entries.get(path)
            return set(entry.role_tags) if entry else set()

    def set_tags(self, path: str, tags: set[str]) -> None:
        with self.lock:
            self.entries[path].role_tags = set(tags)

    def make_directory(self, path: str, tags: set[str] | None = None) -> None:
        with self.lock:
            if path in self.roots:
                if tags is not None:
                    self.entries[path].role_tags = set(tags)
                return
            self.check_parent(path)
            existing = self.entries.get(path)
            if existing is not None and existing.type != "directory":
                raise MantaError(400, "ParentNotDirectory",
                                 f"{path} is an object: a directory cannot replace it")
            if existing is None:
                os.makedirs(self.disk_path(path), exist_ok=True)
                self.entries[path] = Entry("directory", time.time())
                self.children[path] = set()
                self.children[self.parent(path)].add(path.rsplit("/", 1)[1])
            if tags is not None:
                self.entries[path].role_tags = set(tags)

    def check_object_target(self, path: str) -> None:
        with self.lock:
            if path in self.roots:
                raise MantaError(400, "OperationNotAllowedOnRootDirectory", f"PUT is not allowed on {path}")
            self.check_parent(path)
            existing = self.entries.get(path)
            if existing is not None and existing.type == "directory":
                raise MantaError(400, "OperationNotAllowedOnDirectory",
                                 f"{path} is a directory: PUT is not allowed")

    def new_upload(self) -> str:
        return os.path.join(self.uploads, uuid.uuid4().hex)

    def commit_object(self, path: str, upload: str, entry: Entry) -> None:
        """Moves a finished upload into place; the tree may have changed while it streamed."""
        with self.lock:
            try:
                self.check_parent(path)
                existing = self.entries.get(path)
                if existing is not None and existing.type == "directory":
                    raise MantaError(400, "OperationNotAllowedOnDirectory",
                                     f"{path} is a directory: PUT is not allowed")
            except MantaError:
                os.unlink(upload)
                raise
            os.replace(upload, self.disk_path(path))
            self.entries[path] = entry
            self.children[self.parent(path)].add(path.rsplit("/", 1)[1])

    def delete(self, path: str) -> None:
        with self.lock:
            if path in self.roots:
                raise MantaError(400, "OperationNotAllowedOnRootDirectory", f"DELETE is not allowed on {path}")
            entry = self.entries.get(path)
            if entry is None:
                raise MantaError(404, "ResourceNotFound", f"{path} was not found")
            if entry.type == "directory":
                if self.children[path]:
                    raise MantaError(400, "DirectoryNotEmpty", f"{path} is not empty")
                os.rmdir(self.disk_path(path))
                del self.children[path]
            else:
                os.unlink(self.disk_path(path))
            del self.entries[path]
            self.children[self.parent(path)].discard(path.rsplit("/", 1)[1])

    def list(self, path: str, limit: int, marker: str | None) -> tuple[int, list[dict[str, Any]]]:
        with self.lock:
            names = sorted(self.children[path])
            total = len(names)
            if marker is not None:
                names = [name for name in names if name >= marker]
            return total, [self.entries[f"{path}/{name}"].listing(name) for name in names[:limit]]


class BodyReader:
    """A request body read in pieces, framed by Content-Length or chunked encoding."""

    def __init__(self, stream: BinaryIO, headers: Any):
        self.stream = stream
        encoding = (headers.get("transfer-encoding") or "").lower()
        self.chunked = encoding == "chunked"
        if encoding and not self.chunked:
            raise MantaError(501, "NotImplemented", f"transfer-encoding {encoding} is not supported")
        length = headers.get("content-length")
        self.remaining = 0
        self.known_length: int | None = None
        if not self.chunked and length is not None:
            if not length.isdigit():
                raise MantaError(411, "ContentLengthRequired", "Content-Length must be >= 0")
            self.remaining = self.known_length = int(length)
        self.chunk_left = 0
        self.finished = not self.chunked and self.remaining == 0

    def read(self, limit: int = PIECE) -> bytes:
        """The next piece, empty at the end of the body."""
        if self.finished:
            return b""
        if not self.chunked:
            data = self.stream.read(min(limit, self.remaining))
            if not data:
                raise DropConnection()
            self.remaining -= len(data)
            self.finished = self.remaining == 0
            return data
        if self.chunk_left == 0:
            size = self._chunk_size()
            if size == 0:
                self._trailers()
                self.finished = True
                return b""
            self.chunk_left = size
        data = self.stream.read(min(limit, self.chunk_left))
        if not data:
            raise DropConnection()
        self.chunk_left -= len(data)
        if self.chunk_left == 0 and self.stream.readline(3) not in (b"\r\n", b"\n"):
            raise MantaError(400, "BadRequest", "chunk not followed by CRLF")
        return data

    def drain(self) -> None:
        while self.read():
            pass

    def _chunk_size(self) -> int:
        line = self.stream.readline(1024)
        if not line:
            raise DropConnection()
        text = line.split(b";", 1)[0].strip()
        try:
            size = int(text, 16)
        except ValueError:
            raise MantaError(400, "BadRequest", f"bad chunk size {text[:40]!r}") from None
        if size < 0:
            raise MantaError(400, "BadRequest", "negative chunk size")
        return size

    def _trailers(self) -> None:
        while True:
            line = self.stream.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                return


@dataclass
class RequestLog:
    records: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.records.append(record)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(record) for record in self.records]

    def clear(self) -> None:
        with self.lock:
            self.records.clear()


class MantaDouble:
    def __init__(self, namespace: Namespace, keyring: KeyRing, verbose: bool,
                 free_space_mb: int | None = None):
        self.namespace = namespace
        self.keyring = keyring
        self.verbose = verbose
        # The most free space any storage node has: an upload needing more is 507.
        self.free_space_mb = free_space_mb
        self.log = RequestLog()
        self.hooks = UploadHooks()
        self.hooks_lock = threading.Lock()
        self.faults: list[Fault] = []

    def take_fault(self, method: str) -> Fault | None:
        with self.hooks_lock:
            for fault in self.faults:
                if fault.method in (None, method):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def take_hooks(self) -> UploadHooks:
        with self.hooks_lock:
            hooks, self.hooks = self.hooks, UploadHooks()
        return hooks


class APIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    double: MantaDouble
    record: dict[str, Any]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        if self.double.verbose:
            sys.stderr.write("manta-double: " + (format % args) + "\n")

    def do_GET(self) -> None:
        self.handle_api()

    def do_HEAD(self) -> None:
        self.handle_api()

    def do_PUT(self) -> None:
        self.handle_api()

    def do_DELETE(self) -> None:
        self.handle_api()

    def do_POST(self) -> None:
        self.handle_api()

    def version_string(self) -> str:
        return "Manta"

    def send_response(self, code: int, message: str | None = None) -> None:
        # Recorded before the first byte goes out, so a client that has its
        # answer always finds the request in the control API's log.
        self.record["status"] = code
        self.response_started = True
        super().send_response(code, message)

    def handle_api(self) -> None:
        self.response_started = False
        self.retry_after: str | None = None
        record: dict[str, Any] = {"method": self.command, "path": self.path, "role": self.headers.get("role"),
                                  "account": None, "subuser": None, "keyId": None, "status": None}
        self.record = record
        self.double.log.add(record)
        body: BodyReader | None = None
        try:
            body = BodyReader(self.rfile, self.headers)
            KeyRing.check_date_age(self.headers)
            split = urllib.parse.urlsplit(self.path)
            path = self.double.namespace.normalize(split.path)
            principal = self.double.keyring.authenticate(self.command, self.path, self.headers, path)
            record.update(account=principal.account, subuser=principal.subuser, keyId=principal.key_id)
            fault = self.double.take_fault(self.command)
            if fault is not None:
                self.retry_after = fault.retry_after
                raise MantaError(fault.status, fault.code, fault.message)
            query = urllib.parse.parse_qs(split.query)
            self.principal = principal
            self.route(path, query, body)
        except DropConnection:
            record["status"] = "dropped"
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except MantaError as error:
            if self.response_started:
                self.close_connection = True
            else:
                self.send_error_json(error, body)
        except (BrokenPipeError, ConnectionResetError):
            record["status"] = "client gone"
            self.close_connection = True
        except Exception as error:  # a bug or a full disk: answer like Manta, keep serving
            self.close_connection = True
            if not self.response_started:
                self.send_error_json(MantaError(500, "InternalError", f"an unexpected error occurred: {error}"), None)

    def send_error_json(self, error: MantaError, body: BodyReader | None) -> None:
        # Read what is left of the body so the client sees this answer instead of a reset;
        # a body that cannot be read ends the connection.
        try:
            if body is None:
                self.close_connection = True
            else:
                body.drain()
        except (MantaError, DropConnection, OSError):
            self.close_connection = True
        payload = json.dumps({"code": error.code, "message": error.message}).encode()
        try:
            self.send_response(error.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if self.retry_after is not None:
                self.send_header("Retry-After", self.retry_after)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def send_empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", "0")
        self.end_headers()

    def authorize(self, action: str, path: str, against: str) -> None:
        self.double.keyring.authorize(self.principal, action, path, self.double.namespace.tags_of(against))

    def role_tags(self) -> set[str] | None:
        value = self.headers.get("role-tag")
        return None if value is None else {part.strip() for part in value.split(",") if part.strip()}

    def route(self, path: str, query: dict[str, list[str]], body: BodyReader) -> None:
        namespace = self.double.namespace
        if self.command == "PUT":
            content_type = (self.headers.get("content-type") or "").strip().lower()
            normalized = "; ".join(part.strip() for part in content_type.split(";"))
            if normalized in DIRECTORY_PUT_TYPES:
                body.drain()
                self.authorize("putdirectory", path, namespace.parent(path))
                namespace.make_directory(path, self.role_tags())
                self.send_empty(204, {})
                return
            self.authorize("putobject", path, namespace.parent(path))
            self.put_object(path, body)
            return
        body.drain()
        if self.command in ("GET", "HEAD"):
            entry = namespace.lookup(path)
            if entry.type == "directory":
                self.authorize("getdirectory", path, path)
                self.get_directory(path, query)
            else:
                self.authorize("getobject", path, path)
                self.get_object(path, entry)
            return
        if self.command == "DELETE":
            entry = namespace.lookup(path)
            self.authorize("deletedirectory" if entry.type == "directory" else "deleteobject", path, path)
            namespace.delete(path)
            self.send_empty(204, {})
            return
        raise MantaError(405, "MethodNotAllowed", f"{self.command} is not allowed on {path}")

    def put_object(self, path: str, body: BodyReader) -> None:
        namespace = self.double.namespace
        copies_header = self.headers.get("durability-level") or self.headers.get("x-durability-level")
        try:
            copies = int(copies_header) if copies_header is not None else DEFAULT_COPIES
        except ValueError:
            copies = -1
        if not MIN_COPIES <= copies <= MAX_COPIES:
            raise MantaError(400, "InvalidDurabilityLevel",
                             f"durability-level must be between {MIN_COPIES} and {MAX_COPIES}")
        limit = None
        if body.chunked:
            try:
                limit = int(self.headers.get("max-content-length", DEFAULT_MAX_STREAMING_SIZE))
            except ValueError:
                limit = -1
            if limit < 0:
                raise MantaError(400, "InvalidMaxContentLength",
                                 f"{self.headers.get('max-content-length')} is an invalid max-content-length value")
        namespace.check_object_target(path)
        self.check_space(body.known_length if not body.chunked else limit)
        hooks = self.double.take_hooks()
        digest = hashlib.md5()
        received = 0
        upload = namespace.new_upload()
        try:
            with open(upload, "wb") as handle:
                while True:
                    piece = body.read()
                    if not piece:
                        break
                    if hooks.fail_after_bytes is not None and received + len(piece) > hooks.fail_after_bytes:
                        kept = piece[:max(0, hooks.fail_after_bytes - received)]
                        handle.write(kept)
                        raise DropConnection()
                    if hooks.corrupt and received == 0:
                        piece = bytes([piece[0] ^ 0xFF]) + piece[1:]
                    received += len(piece)
                    if limit is not None and received > limit:
                        raise MantaError(413, "MaxContentLengthExceeded", f"request has exceeded {limit} bytes")
                    digest.update(piece)
                    handle.write(piece)
                    if hooks.bytes_per_second:
                        time.sleep(len(piece) / hooks.bytes_per_second)
        except BaseException:
            os.unlink(upload)
            raise
        computed = base64.b64encode(digest.digest()).decode()
        claimed = self.headers.get("content-md5")
        if claimed is not None and claimed != computed:
            os.unlink(upload)
            raise MantaError(400, "ContentMD5Mismatch", f"Content-MD5 expected {claimed}, but was {computed}")
        entry = Entry("object", time.time(), size=received, md5=computed, etag=str(uuid.uuid4()),
                      content_type=self.headers.get("content-type") or "application/octet-stream",
                      durability=0 if received == 0 else copies, role_tags=self.role_tags() or set())
        namespace.commit_object(path, upload, entry)
        self.send_empty(204, {"Etag": entry.etag, "Last-Modified": http_date(entry.mtime),
                                     "Computed-MD5": computed})

    def check_space(self, size: int | None) -> None:
        """muskie picks storage nodes with room for the whole object before reading it: its
        Content-Length, or for a chunked upload its Max-Content-Length, 5 GiB when absent
        (obj.js, defaultMaxStreamingSizeMB; picker.js)."""
        free = self.double.free_space_mb
        if free is None or size is None:
            return
        needed = -(-size // MIB)
        if needed > free:
            raise MantaError(507, "NotEnoughSpace", f"not enough free space for {needed} MB")

    def get_object(self, path: str, entry: Entry) -> None:
        accept = self.headers.get("accept")
        if accept and not accepts(accept, entry.content_type):
            raise MantaError(406, "NotAcceptable", f"{path} accepts {entry.content_type}")
        try:
            handle = open(self.double.namespace.disk_path(path), "rb")
        except FileNotFoundError:
            raise MantaError(404, "ResourceNotFound", f"{path} was not found") from None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", entry.content_type)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-MD5", entry.md5)
            self.send_header("Etag", entry.etag)
            self.send_header("Last-Modified", http_date(entry.mtime))
            self.send_header("Durability-Level", str(entry.durability))
            self.end_headers()
            if self.command == "HEAD":
                return
            while True:
                piece = handle.read(PIECE)
                if not piece:
                    break
                self.wfile.write(piece)

    def get_directory(self, path: str, query: dict[str, list[str]]) -> None:
        raw_limit = query.get("limit", [str(DEFAULT_LIMIT)])[0]
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise MantaError(400, "InvalidArgumentError", f"limit={raw_limit} is invalid: must be between [1, 1024]")
        marker = query.get("marker", [None])[0]
        total, entries = self.double.namespace.list(path, limit, marker)
        # muskie streams a listing as it reads it from the metadata tier: chunked, one
        # JSON line per chunk.
        self.send_response(200)
        self.send_header("Content-Type", DIRECTORY_CONTENT_TYPE)
        self.send_header("Result-Set-Size", str(total))
        if self.command == "HEAD":
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for entry in entries:
            line = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: MantaDouble

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.double.verbose:
            sys.stderr.write("manta-double control: " + (format % args) + "\n")

    def reply(self, status: int, value: Any) -> None:
        payload = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if urllib.parse.urlsplit(self.path).path == "/requests":
            self.reply(200, self.double.log.snapshot())
        else:
            self.reply(404, {"error": f"no control endpoint GET {self.path}"})

    def do_DELETE(self) -> None:
        if urllib.parse.urlsplit(self.path).path == "/requests":
            self.double.log.clear()
            self.reply(200, {})
        elif urllib.parse.urlsplit(self.path).path == "/faults":
            with self.double.hooks_lock:
                self.double.faults.clear()
            self.reply(200, {})
        else:
            self.reply(404, {"error": f"no control endpoint DELETE {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query)
        with self.double.hooks_lock:
            if split.path == "/fail-after-bytes":
                try:
                    self.double.hooks.fail_after_bytes = int(query["bytes"][0])
                except (KeyError, ValueError):
                    self.reply(400, {"error": "fail-after-bytes needs ?bytes=N"})
                    return
            elif split.path == "/slow-upload":
                try:
                    self.double.hooks.bytes_per_second = int(query["bytes_per_second"][0])
                except (KeyError, ValueError):
                    self.reply(400, {"error": "slow-upload needs ?bytes_per_second=N"})
                    return
            elif split.path == "/corrupt-next-upload":
                self.double.hooks.corrupt = True
            elif split.path == "/faults":
                try:
                    self.double.faults.append(parse_fault(query))
                except ValueError as error:
                    self.reply(400, {"error": str(error)})
                    return
            else:
                self.reply(404, {"error": f"no control endpoint POST {self.path}"})
                return
        self.reply(200, {})


def parse_fault(query: dict[str, list[str]]) -> Fault:
    """`code=` one of FAULTS (or any, with `status=`), `count=` (1), `method=`, `message=`,
    `retry_after=` (seconds, sent as Retry-After)."""
    def one(name: str, default: str | None = None) -> str | None:
        return query.get(name, [default])[0]

    code = one("code") or ""
    status, message = FAULTS.get(code, (0, ""))
    try:
        status = int(one("status") or status)
        count = int(one("count", "1") or 1)
    except ValueError:
        raise ValueError("status and count must be integers") from None
    if not code or not 400 <= status <= 599 or count < 1:
        raise ValueError(f"a fault needs a code ({', '.join(FAULTS)} or any with status=) and count >= 1")
    retry_after = one("retry_after")
    if retry_after is not None and not retry_after.isdigit():
        raise ValueError("retry_after is whole seconds")
    method = one("method")
    return Fault(status, code, one("message") or message or code, count,
                 method.upper() if method else None, retry_after)


def accepts(accept: str, content_type: str) -> bool:
    """Whether an Accept header admits the object's media type (parameters aside), as
    muskie's content negotiation decides before sending an object."""
    wanted = content_type.split(";", 1)[0].strip().lower()
    major = wanted.split("/", 1)[0]
    for item in accept.split(","):
        offered = item.split(";", 1)[0].strip().lower()
        if offered in ("*/*", wanted, f"{major}/*"):
            return True
    return False


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False


def serve(handler: type[BaseHTTPRequestHandler], tls: tuple[str, str] | None = None) -> Server:
    server = Server((ADDRESS, 0), handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        # The handshake runs in the request's thread, so a client that stalls
        # in it holds up only itself.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, name=handler.__name__, daemon=True).start()
    return server


def write_ready_file(path: str, document: dict[str, Any]) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as handle:
        json.dump(document, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Manta storage API double with HTTP signature checks")
    parser.add_argument("--root", required=True, help="directory that holds the objects")
    parser.add_argument("--user", required=True, help="the account login (MANTA_USER)")
    parser.add_argument("--public-key", required=True, help="the account's key (.pub, PEM public or private)")
    parser.add_argument("--subuser", help="a subuser login (MANTA_SUBUSER)")
    parser.add_argument("--subuser-public-key", help="the subuser's key")
    parser.add_argument("--role", action="append", type=parse_role, metavar="NAME[=ACTION,...]",
                        help="a role of the account (repeat), granting the given policy actions "
                             f"({', '.join(ACTIONS)}) or all; without any --role, any Role header "
                             "is accepted and nothing is enforced")
    parser.add_argument("--subuser-role", action="append", metavar="NAME",
                        help="a role the subuser is a member of (repeat); default: every --role")
    parser.add_argument("--role-tag", action="append", default=[], metavar="PATH=ROLE,...",
                        help="role tags of a directory, made with its parents if missing "
                             "(e.g. /LOGIN/stor/backups=writer)")
    parser.add_argument("--free-space-mb", type=int, metavar="MB",
                        help="the most free space a storage node has: an upload that needs more "
                             "(its Content-Length, or Max-Content-Length, 5 GiB if absent, when "
                             "chunked) is 507 NotEnoughSpace; default: unlimited")
    parser.add_argument("--fail-after-bytes", type=int, help="cut the first object upload after N body bytes")
    parser.add_argument("--ready-file", help="where to write {port, control_port, pid, scheme} once listening")
    parser.add_argument("--tls-cert", help="serve the API over https with this PEM certificate (chain)")
    parser.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if (args.subuser is None) != (args.subuser_public_key is None):
        parser.error("--subuser and --subuser-public-key go together")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")

    account_key = load_public_key(args.public_key)
    subuser_key = load_public_key(args.subuser_public_key) if args.subuser_public_key else None
    try:
        keyring = KeyRing(args.user, account_key, args.subuser, subuser_key, args.role, args.subuser_role)
    except ValueError as error:
        parser.error(str(error))
    namespace = Namespace(args.root, args.user)
    for tagging in args.role_tag:
        path, _, roles = tagging.partition("=")
        try:
            path = namespace.normalize(path)
            levels = path.split("/")
            for depth in range(4, len(levels)):
                namespace.make_directory("/".join(levels[:depth]))
            namespace.make_directory(path, {r.strip() for r in roles.split(",") if r.strip()})
        except MantaError as error:
            parser.error(f"--role-tag {tagging!r}: {error.message}")
    double = MantaDouble(namespace, keyring, args.verbose, args.free_space_mb)
    if args.fail_after_bytes is not None:
        double.hooks.fail_after_bytes = args.fail_after_bytes
    APIHandler.double = double
    ControlHandler.double = double
    api = serve(APIHandler, tls=(args.tls_cert, args.tls_key) if args.tls_cert else None)
    control = serve(ControlHandler)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    document = {"port": api.server_address[1], "control_port": control.server_address[1], "pid": os.getpid(),
                "scheme": "https" if args.tls_cert else "http"}
    if args.ready_file:
        write_ready_file(args.ready_file, document)
    print(json.dumps(document), flush=True)
    stop.wait()
    api.shutdown()
    control.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
