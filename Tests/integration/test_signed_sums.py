"""scripts/verify-signed-sums, which the Dockerfile runs on Consul's download.

Docker does not run here, so the check is run as the image runs it (POSIX sh, gpg,
sha256sum), on keys made for the test: a good signature by the pinned key or its signing
subkey passes; another key, an expired or revoked key, a changed checksum list and a
changed download each fail, saying why.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify-signed-sums"
PAST = "20200101T000000"

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed (apt-get install gpg)")


@dataclass
class Signer:
    home: Path
    fingerprint: str
    public_key: Path

    def gpg(self, *args: str, faked_time: str | None = None) -> str:
        extra = ["--faked-system-time", faked_time] if faked_time else []
        result = subprocess.run(["gpg", "--batch", "--homedir", str(self.home), "--pinentry-mode", "loopback",
                                 "--passphrase", "", *extra, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def sign(self, path: Path, faked_time: str | None = None) -> Path:
        signature = path.with_name(path.name + ".sig")
        signature.unlink(missing_ok=True)
        self.gpg("--detach-sign", "--output", str(signature), str(path), faked_time=faked_time)
        return signature

    def export(self) -> Path:
        self.public_key.write_text(self.gpg("--armor", "--export", self.fingerprint))
        return self.public_key

    def close(self) -> None:
        """Stops the gpg-agent that making and signing with the key started."""
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"], capture_output=True, timeout=30)


def make_signer(directory: Path, name: str, *, signing_subkey: bool = False, expires: str = "never",
                faked_time: str | None = None) -> Signer:
    home = directory / name
    home.mkdir(mode=0o700)
    signer = Signer(home, "", directory / f"{name}.asc")
    usage = "cert" if signing_subkey else "sign"
    try:
        signer.gpg("--quick-gen-key", f"{name} <{name}@example.test>", "ed25519", usage, expires, faked_time=faked_time)
        listing = signer.gpg("--with-colons", "--list-keys")
        signer.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        if signing_subkey:
            signer.gpg("--quick-add-key", signer.fingerprint, "ed25519", "sign", "never")
        signer.export()
    except BaseException:
        signer.close()
        raise
    return signer


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Signer]]:
    directory = tmp_path_factory.mktemp("gpg")
    made: dict[str, Signer] = {}
    try:
        made["release"] = make_signer(directory, "release", signing_subkey=True)
        made["other"] = make_signer(directory, "other")
        made["expired"] = make_signer(directory, "expired", expires="1d", faked_time=PAST)
        yield made
    finally:
        for signer in made.values():
            signer.close()


@pytest.fixture
def download(tmp_path: Path) -> tuple[Path, Path]:
    archive = tmp_path / "consul_1.0.0_linux_amd64.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    digest = subprocess.run(["sha256sum", str(archive)], capture_output=True, text=True, check=True).stdout.split()[0]
    sums = tmp_path / "consul_1.0.0_SHA256SUMS"
    sums.write_text(f"{'0' * 64}  consul_1.0.0_darwin_arm64.zip\n{digest}  {archive.name}\n")
    return archive, sums


def verify(fingerprint: str, key: Path, sums: Path, signature: Path, archive: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(SCRIPT), fingerprint, str(key), str(sums), str(signature), str(archive)],
                          capture_output=True, text=True, timeout=60)


def test_a_good_signature_by_the_pinned_keys_signing_subkey_passes(keys, download) -> None:
    archive, sums = download
    release = keys["release"]
    spaced = " ".join(release.fingerprint[i:i + 4] for i in range(0, 40, 4)).lower()
    result = verify(spaced, release.public_key, sums, release.sign(sums), archive)
    assert result.returncode == 0, result.stderr
    assert f"signed by {release.fingerprint}" in result.stdout


def test_a_signature_by_another_key_fails_even_with_that_key_supplied(keys, download) -> None:
    archive, sums = download
    other = keys["other"]
    result = verify(keys["release"].fingerprint, other.public_key, sums, other.sign(sums), archive)
    assert result.returncode == 1
    assert f"signed by the key {other.fingerprint}, not by the pinned {keys['release'].fingerprint}" in result.stderr


def test_a_changed_checksum_list_fails(keys, download) -> None:
    archive, sums = download
    release = keys["release"]
    signature = release.sign(sums)
    sums.write_text(sums.read_text().replace("darwin", "linux"))
    result = verify(release.fingerprint, release.public_key, sums, signature, archive)
    assert result.returncode == 1
    assert "is not a good signature" in result.stderr


def test_a_changed_download_fails(keys, download) -> None:
    archive, sums = download
    release = keys["release"]
    signature = release.sign(sums)
    archive.write_bytes(b"something else")
    result = verify(release.fingerprint, release.public_key, sums, signature, archive)
    assert result.returncode == 1
    assert f"{archive} has SHA-256" in result.stderr


def test_a_download_the_list_does_not_name_once_fails(keys, download) -> None:
    archive, sums = download
    release = keys["release"]
    for text, times in [("", 0), (sums.read_text() * 2, 2)]:
        sums.write_text(text)
        result = verify(release.fingerprint, release.public_key, sums, release.sign(sums), archive)
        assert result.returncode == 1
        assert f"lists {archive.name} {times} times, expected once" in result.stderr


def test_an_expired_key_fails_although_gpg_exits_zero(keys, download) -> None:
    archive, sums = download
    expired = keys["expired"]
    signature = expired.sign(sums, faked_time=PAST)
    result = verify(expired.fingerprint, expired.public_key, sums, signature, archive)
    assert result.returncode == 1
    assert "EXPKEYSIG" in result.stderr


@pytest.fixture
def revoked_signer(tmp_path: Path) -> Iterator[Signer]:
    signer = make_signer(tmp_path, "revoked")
    yield signer
    signer.close()


def test_a_revoked_key_fails(tmp_path: Path, download, revoked_signer: Signer) -> None:
    archive, sums = download
    signer = revoked_signer
    signature = signer.sign(sums)
    # gpg writes a revocation certificate for every new key, defused by a leading colon.
    certificate = (signer.home / "openpgp-revocs.d" / f"{signer.fingerprint}.rev").read_text()
    revocation = tmp_path / "revocation.asc"
    revocation.write_text(certificate.replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
    signer.gpg("--import", str(revocation))
    result = verify(signer.fingerprint, signer.export(), sums, signature, archive)
    assert result.returncode == 1
    assert "REVKEYSIG" in result.stderr


def test_a_bad_command_line_is_refused(keys, download) -> None:
    archive, sums = download
    release = keys["release"]
    short = verify("72D7468F", release.public_key, sums, release.sign(sums), archive)
    assert short.returncode == 1 and "not 40 hexadecimal digits" in short.stderr
    missing = verify(release.fingerprint, release.public_key, sums, sums.with_name("nothing.sig"), archive)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    usage = subprocess.run(["sh", str(SCRIPT), release.fingerprint], capture_output=True, text=True, timeout=10)
    assert usage.returncode == 2 and usage.stderr.startswith("usage:")
