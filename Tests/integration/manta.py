"""The Manta double (Tests/doubles/manta_double.py) as a test or a benchmark starts it:
https like the real Manta, its certificate from a private CA, a fresh account key."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Optional, Sequence

from certificates import make_certificates
from harness import wait_until

MANTA_DOUBLE = Path(__file__).resolve().parents[1] / "doubles" / "manta_double.py"


def _new_key(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "test", "-f", str(path)],
                   check=True, timeout=60)
    return path.read_text()


class MantaDouble:
    """The double with a fresh OpenSSH key (what ssh-keygen writes today). `subuser`: the
    nodes sign as that sub-user of the account, with a key of its own; `arguments` go to
    the double as they are (roles, --free-space-mb)."""

    # Storage nodes with 4 GiB free, less than the 5 GiB Manta reserves for an upload of
    # unknown length: an upload must say how large it can be.
    FREE_SPACE_MB = "4096"

    def __init__(self, workdir: Path, arguments: Sequence[str] = (), subuser: Optional[str] = None) -> None:
        self.certificates = make_certificates(workdir / "tls")
        self.root = workdir / "manta"
        self.root.mkdir()
        self.subuser = subuser
        self.private_key = _new_key(workdir / "manta_key")
        command = [sys.executable, str(MANTA_DOUBLE), "--root", str(self.root), "--user", "backup",
                   "--public-key", f"{workdir / 'manta_key'}.pub", "--free-space-mb", self.FREE_SPACE_MB]
        if subuser is not None:
            self.private_key = _new_key(workdir / "manta_subuser_key")
            command += ["--subuser", subuser, "--subuser-public-key", f"{workdir / 'manta_subuser_key'}.pub"]
        ready = workdir / "manta-ready.json"
        self.log = open(workdir / "manta.log", "wb")
        self.process = subprocess.Popen(
            command + ["--ready-file", str(ready), "--tls-cert", str(self.certificates.certificate),
                       "--tls-key", str(self.certificates.key), *arguments],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        info = wait_until(lambda: ready.exists() and json.loads(ready.read_text()), 20, "the Manta double is ready")
        self.port, self.control_port = info["port"], info["control_port"]

    def env(self) -> dict[str, str]:
        # Newlines as '#', as the original's MANTA_PRIVATE_KEY arrived in _env files.
        # SSL_CERT_FILE is read by OpenSSL itself: the documented way to trust a private CA.
        env = {"BACKUP_STORE": "manta", "MANTA_URL": f"https://127.0.0.1:{self.port}", "MANTA_USER": "backup",
               "MANTA_PRIVATE_KEY": self.private_key.replace("\n", "#"), "MANTA_BUCKET": "/backup/stor/redis",
               "SSL_CERT_FILE": str(self.certificates.ca)}
        if self.subuser is not None:
            env["MANTA_SUBUSER"] = self.subuser
        return env

    def control(self, method: str, path: str) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", data=b"", method=method)
        assert urllib.request.urlopen(request, timeout=10).status in (200, 204)

    def names(self) -> list[str]:
        directory = self.root / "backup" / "stor" / "redis"
        return sorted(os.listdir(directory)) if directory.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()
