"""redis-manage against an agent that serves https, as a Consul with TLS does: the agent's
certificate is from a private CA, named by CONSUL_CACERT the way the consul command takes it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import consul_backend
import pytest

from certificates import make_certificates

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / ".build" / "debug" / "redis-manage"


@pytest.fixture
def https_agent(tmp_path: Path):
    certificates = make_certificates(tmp_path / "tls")
    consul = consul_backend.start_double(["node1"], workdir=str(tmp_path),
                                         tls=(str(certificates.certificate), str(certificates.key)))
    try:
        assert consul.scheme == "https"
        yield consul.agents["node1"].port, certificates
    finally:
        consul.stop()


def backups_list(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ["PATH"], "REDIS_ANNOUNCE_IP": "127.0.0.1",
                   "BACKUP_DIR": str(tmp_path / "backups"), "REDIS_RUN_DIR": str(tmp_path / "run"), **env}
    return subprocess.run([str(BINARY), "backups", "list"], env=environment, capture_output=True, text=True, timeout=60)


def test_agent_over_https_is_trusted_through_consul_cacert(https_agent, tmp_path: Path) -> None:
    port, certificates = https_agent
    trusted = backups_list(tmp_path, CONSUL_HTTP_ADDR=f"https://127.0.0.1:{port}", CONSUL_CACERT=str(certificates.ca))
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert "(no backups)" in trusted.stdout


def test_agent_certificate_is_refused_without_its_ca_or_for_another_name(https_agent, tmp_path: Path) -> None:
    port, certificates = https_agent
    untrusted = backups_list(tmp_path, CONSUL_HTTP_ADDR=f"https://127.0.0.1:{port}")
    assert untrusted.returncode == 1, untrusted.stdout + untrusted.stderr
    assert "rejected for 127.0.0.1: unable to get local issuer certificate" in untrusted.stdout + untrusted.stderr

    # The certificate names IP 127.0.0.1 only.
    renamed = backups_list(tmp_path, CONSUL_HTTP_ADDR=f"https://localhost:{port}", CONSUL_CACERT=str(certificates.ca))
    assert renamed.returncode == 1, renamed.stdout + renamed.stderr
    assert "rejected for localhost: hostname mismatch" in renamed.stdout + renamed.stderr

    plain = backups_list(tmp_path, CONSUL_HTTP_ADDR=f"http://127.0.0.1:{port}")
    assert plain.returncode == 1, plain.stdout + plain.stderr


def test_missing_ca_file_is_named_in_the_error(https_agent, tmp_path: Path) -> None:
    port, _ = https_agent
    missing = tmp_path / "absent-ca.pem"
    result = backups_list(tmp_path, CONSUL_HTTP_ADDR=f"https://127.0.0.1:{port}", CONSUL_CACERT=str(missing))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot load CA certificates from {missing}" in result.stdout + result.stderr
