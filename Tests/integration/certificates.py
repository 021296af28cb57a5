"""A private CA and a server certificate for 127.0.0.1, made with the openssl command,
for the doubles that serve https in a test."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class TestCertificates:
    ca: Path
    certificate: Path
    key: Path


def make_certificates(directory: Path) -> TestCertificates:
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    certificate, key, request = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, timeout=60, capture_output=True)

    openssl("req", "-x509", *EC_KEY, "-days", "2", "-subj", "/CN=redis-manage test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            "-keyout", str(ca_key), "-out", str(ca))
    openssl("req", *EC_KEY, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(request))
    openssl("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-set_serial", "2",
            "-days", "2", "-extfile", str(extensions), "-out", str(certificate))
    return TestCertificates(ca=ca, certificate=certificate, key=key)
