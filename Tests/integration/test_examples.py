"""The shipped files agree with the repository: compose files, env examples, setup.sh, Dockerfile.

No Docker here, so these check what can be checked without it: the YAML parses into the
services the READMEs describe, every variable handed to a redis-manage container is one
the README documents, the Dockerfile copies files that exist and that .dockerignore lets
through, builds exactly as `make release`, and examples/triton/setup.sh writes an _env
that redis-manage can read (MD5 fingerprint, key with '#' for newlines).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
COMPOSE_FILES = [EXAMPLES / "compose" / "docker-compose.yml", EXAMPLES / "triton" / "docker-compose.yml"]
PUBLISH_FILES = [EXAMPLES / "compose" / "publish.yml", EXAMPLES / "triton" / "publish.yml"]
ENV_EXAMPLES = [EXAMPLES / "triton" / "_env.example", EXAMPLES / "s3" / "_env.example",
                EXAMPLES / "compose" / "local-backups.env"]
SETUP = EXAMPLES / "triton" / "setup.sh"
ENV_LINE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=")


def documented_variables() -> set[str]:
    """Names in the first column of the README's tables."""
    text = (REPO / "README.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, flags=re.MULTILINE))


def compose(path: Path) -> dict:
    with path.open() as handle:
        return yaml.safe_load(handle)


def environment_names(service: dict) -> set[str]:
    """The variables handed to the container, less Triton's placement hints (`affinity:...`)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        names = {entry.split("=", 1)[0] for entry in environment}
    else:
        names = set(environment)
    return {name for name in names if not name.startswith("affinity:")}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(entry.split(None, 1)[0].upper(), entry.split(None, 1)[1]) for entry in logical]


def test_the_documented_variables_are_found() -> None:
    assert {"CONSUL", "LOG_LEVEL", "MANTA_PRIVATE_KEY", "S3_BUCKET", "CONSUL_LOCAL_CONFIG"} <= documented_variables()


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.parent.name)
def test_compose_file_runs_consul_and_redis_with_time_to_stop(path: Path) -> None:
    services = compose(path)["services"]
    assert set(services) == {"consul", "redis"}
    redis = services["redis"]
    assert redis["stop_grace_period"] == "60s"
    assert services["consul"]["image"].startswith("hashicorp/consul:")


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.parent.name)
def test_compose_file_publishes_nothing_beyond_loopback(path: Path) -> None:
    services = compose(path)["services"]
    assert "ports" not in services["redis"], "Redis and Sentinel are published only through publish.yml"
    for port in services["consul"].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), port


def test_triton_spreads_the_nodes_over_hosts_as_the_original_did() -> None:
    redis = compose(COMPOSE_FILES[1])["services"]["redis"]
    assert redis["environment"] == ["affinity:com.docker.compose.service!=~redis"]


def test_local_publish_file_binds_loopback_only() -> None:
    ports = compose(PUBLISH_FILES[0])["services"]["redis"]["ports"]
    assert ports == ["127.0.0.1::6379", "127.0.0.1::26379"]


def test_triton_publish_file_requires_a_password_and_keeps_sentinel_private() -> None:
    redis = compose(PUBLISH_FILES[1])["services"]["redis"]
    assert [str(port) for port in redis["ports"]] == ["6379"], "Sentinel has no password of its own"
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")


def test_local_compose_shares_one_backup_volume_as_an_explicit_local_store() -> None:
    document = compose(COMPOSE_FILES[0])
    redis = document["services"]["redis"]
    assert redis["volumes"] == ["backups:/var/backups/redis"]
    assert "backups" in document["volumes"]
    # The later file wins: a BACKUP_STORE in _env replaces local-backups.env's.
    assert redis["env_file"] == [{"path": "./local-backups.env"}, {"path": "./_env", "required": False}]
    defaults = read_env_lines(COMPOSE_FILES[0].parent / "local-backups.env")
    assert defaults == {"BACKUP_STORE": "local"}
    assert "BACKUP_STORE" not in redis["environment"], "environment would override _env"


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.parent.name)
def test_compose_file_passes_only_documented_variables(path: Path) -> None:
    assert environment_names(compose(path)["services"]["redis"]) <= documented_variables()


def test_local_compose_joins_the_consul_service() -> None:
    redis = compose(COMPOSE_FILES[0])["services"]["redis"]
    assert redis["environment"]["CONSUL"] == "consul"
    assert redis["build"]["context"] == "../.."
    assert (COMPOSE_FILES[0].parent / redis["build"]["context"] / "Dockerfile").resolve() == REPO / "Dockerfile"


@pytest.mark.parametrize("path", ENV_EXAMPLES, ids=lambda p: p.parent.name)
def test_env_example_names_only_documented_variables(path: Path) -> None:
    names = {match.group(1) for line in path.read_text().splitlines() if (match := ENV_LINE.match(line))}
    assert names, f"{path} sets no variable"
    assert names <= documented_variables(), names - documented_variables()


def read_env_lines(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_setup_writes_only_documented_variables() -> None:
    names = set(re.findall(r"^\s*(?:echo \"|printf ')([A-Z][A-Z0-9_]*)=", SETUP.read_text(), flags=re.MULTILINE))
    assert names == {"CONSUL", "MANTA_URL", "MANTA_USER", "MANTA_KEY_ID", "MANTA_BUCKET", "MANTA_PRIVATE_KEY",
                     "REDIS_PASSWORD"}
    assert names <= documented_variables()


def test_dockerfile_copies_files_that_exist_and_the_build_context_keeps() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    copies = [shlex.split(arguments) for instruction, arguments in dockerfile_instructions()
              if instruction == "COPY" and not arguments.startswith("--from")]
    assert copies
    for *sources, _ in copies:
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
            assert f"!{source}" in ignore, f".dockerignore leaves out {source}"
    assert ["etc/containerpilot.json5", "/etc/containerpilot.json5"] in copies


def test_dockerfile_builds_as_make_release_and_runs_containerpilot() -> None:
    instructions = dockerfile_instructions()
    recipe = re.search(r"^release:\n\t\$\(SWIFT\) (.+)$", (REPO / "Makefile").read_text(), flags=re.MULTILINE)
    assert recipe is not None
    runs = [arguments for instruction, arguments in instructions if instruction == "RUN"]
    assert any(arguments.startswith(f"swift {recipe.group(1)} ") for arguments in runs)
    assert any(".build/release/redis-manage /usr/local/bin/redis-manage" in arguments for arguments in runs)
    assert ("ENV", "CONTAINERPILOT=/etc/containerpilot.json5") in instructions
    assert ("ENTRYPOINT", '["containerpilot"]') in instructions
    assert ("EXPOSE", "6379 26379") in instructions
    # Downloads are checked: ContainerPilot's against its pinned SHA-1, Consul's against the
    # SHA256SUMS signed by HashiCorp's pinned key (scripts/verify-signed-sums).
    downloads = [arguments for arguments in runs if re.search(r"\bcurl -", arguments)]
    assert len(downloads) == 2
    containerpilot, consul = downloads
    assert "| sha1sum -c -" in containerpilot
    assert re.search(r'verify-signed-sums "\$HASHICORP_KEY_FINGERPRINT" hashicorp\.asc "\$sums" "\$sums\.sig" "\$zip";', consul)
    assert consul.index("verify-signed-sums") < consul.index("unzip"), "nothing is unpacked before it is checked"
    assert ("ARG", "HASHICORP_KEY_FINGERPRINT=C874011F0AB405110D02105534365D9472D7468F") in instructions
    assert ("COPY", "scripts/verify-signed-sums /usr/local/bin/verify-signed-sums") in instructions


def test_dockerfile_builds_every_stage_for_amd64_and_explains_each_lint_exception() -> None:
    instructions = dockerfile_instructions()
    stages = [arguments for instruction, arguments in instructions if instruction == "FROM"]
    assert len(stages) == 3
    assert all(stage.startswith("--platform=linux/amd64 ") for stage in stages), stages
    text = (REPO / "Dockerfile").read_text()
    ignored = re.findall(r"^# hadolint (?:global )?ignore=([A-Z0-9,]+)$", text, flags=re.MULTILINE)
    rules = {rule for group in ignored for rule in group.split(",")}
    assert rules == {"DL3008", "DL3029"}
    for rule in rules:
        assert re.search(rf"^# {rule} \(.+\): ", text, flags=re.MULTILINE), f"{rule} is ignored without a reason"


# --- examples/triton/setup.sh ------------------------------------------------------------

FAKE_TRITON = """#!/bin/sh
case "$1 $2" in
  "profile get") printf 'name: test\\nurl: https://us-sw-1.api.joyent.com\\naccount: jill\\ncurIsDefault: true\\n' ;;
  "account get") printf 'id: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\\nlogin: jill\\nemail: jill@example.com\\n' ;;
  *) echo "fake triton: $*" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def triton_bin(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    triton = directory / "triton"
    triton.write_text(FAKE_TRITON)
    triton.chmod(0o755)
    return directory


@pytest.fixture
def rsa_key(tmp_path: Path) -> Path:
    key = tmp_path / "id_rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "test", "-f", str(key)],
                   check=True, timeout=30)
    return key


def run_setup(args: list[str], path: str) -> subprocess.CompletedProcess:
    env = {"PATH": path, "HOME": "/nonexistent"}
    return subprocess.run(["sh", str(SETUP), *args], env=env, capture_output=True, text=True, timeout=30)


def md5_fingerprint(public_key: Path) -> str:
    blob = base64.b64decode(public_key.read_text().split()[1])
    return ":".join(f"{byte:02x}" for byte in hashlib.md5(blob).digest())


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_setup_writes_consul_name_and_manta_credentials(tmp_path: Path, triton_bin: Path, rsa_key: Path) -> None:
    output = tmp_path / "_env"
    result = run_setup(["-k", str(rsa_key), "-o", str(output)], f"{triton_bin}:{os.environ['PATH']}")
    assert result.returncode == 0, result.stderr
    env = read_env(output)
    assert env["CONSUL"] == "consul.svc.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.us-sw-1.cns.joyent.com"
    assert env["MANTA_USER"] == "jill"
    assert env["MANTA_URL"] == "https://us-east.manta.joyent.com"
    assert env["MANTA_BUCKET"] == "/jill/stor/triton-redis"
    assert env["MANTA_KEY_ID"] == md5_fingerprint(rsa_key.with_suffix(".pub"))
    assert "\n" not in env["MANTA_PRIVATE_KEY"]
    assert env["MANTA_PRIVATE_KEY"].replace("#", "\n") == rsa_key.read_text()
    assert re.fullmatch(r"[0-9a-f]{48}", env["REDIS_PASSWORD"])
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in result.stdout + result.stderr
    assert env["REDIS_PASSWORD"] not in result.stdout + result.stderr
    again = run_setup(["-f", "-k", str(rsa_key), "-o", str(output)], f"{triton_bin}:{os.environ['PATH']}")
    assert again.returncode == 0, again.stderr
    assert read_env(output)["REDIS_PASSWORD"] != env["REDIS_PASSWORD"], "each cluster gets its own password"


def test_setup_keeps_an_existing_env_unless_forced(tmp_path: Path, triton_bin: Path, rsa_key: Path) -> None:
    output = tmp_path / "_env"
    output.write_text("MANTA_USER=before\n")
    path = f"{triton_bin}:{os.environ['PATH']}"
    refused = run_setup(["-k", str(rsa_key), "-o", str(output)], path)
    assert refused.returncode == 1 and "exists" in refused.stderr
    assert output.read_text() == "MANTA_USER=before\n"
    forced = run_setup(["-f", "-k", str(rsa_key), "-o", str(output)], path)
    assert forced.returncode == 0, forced.stderr
    assert read_env(output)["MANTA_USER"] == "jill"


def test_setup_says_what_is_missing(tmp_path: Path, triton_bin: Path) -> None:
    system_path = "/usr/bin:/bin"
    if shutil.which("triton", path=system_path):
        pytest.skip("a real triton CLI is installed")
    no_triton = run_setup(["-o", str(tmp_path / "_env")], system_path)
    assert no_triton.returncode == 1 and "triton is not on PATH" in no_triton.stderr
    no_key = run_setup(["-k", str(tmp_path / "missing"), "-o", str(tmp_path / "_env")],
                       f"{triton_bin}:{os.environ['PATH']}")
    assert no_key.returncode == 1 and "cannot read the private key" in no_key.stderr
    assert not (tmp_path / "_env").exists()
