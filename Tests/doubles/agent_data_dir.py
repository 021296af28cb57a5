"""An agent's data directory in Consul's own layout, so a double's agent that is killed and
started again comes back with what a real one would (agent/agent.go, Consul 1.11+):

    <data-dir>/services/<sha256 of the service ID>     {"Service": {...}, "Token", "Source"}
    <data-dir>/checks/<sha256 of the check ID>         {"Check": {...}, "ChkType": {...}, "Token", "Source"}
    <data-dir>/checks/state/<sha256 of the check ID>   {"CheckID", "Output", "Status", "Expires"}

Services and checks registered through the HTTP API are written when registered and
removed when deregistered (or reaped). A TTL check's state file is written on every
pass/warn/fail/update, with `Expires` = that moment + the TTL in Unix seconds; it is
removed with its check. On start the agent restores every persisted check as critical,
then takes the status and output of its state file unless `now >= Expires` (an expired
or unreadable state file is deleted instead); a check of a service that was not restored
is deleted. Before Consul 1.11 the names were MD5 hex; Consul CE hashes the ID alone.

Only the fields the double uses are written; the JSON keys are Consul's.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

SERVICES = "services"
CHECKS = "checks"
CHECK_STATE = os.path.join("checks", "state")
SOURCE_REMOTE = "remote"  # what Consul records for registrations made through the HTTP API


def file_name(identifier: str) -> str:
    """Consul's StringHashSHA256 of a service or check ID."""
    return hashlib.sha256(identifier.encode()).hexdigest()


class AgentDataDir:
    """Reads and writes one agent's persisted services, checks and TTL check states."""

    def __init__(self, path: str):
        self.path = path

    # -- writes --------------------------------------------------------------

    def _write(self, folder: str, identifier: str, document: dict[str, Any]) -> None:
        directory = os.path.join(self.path, folder)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        target = os.path.join(directory, file_name(identifier))
        temporary = target + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        os.replace(temporary, target)

    def _remove(self, folder: str, identifier: str) -> None:
        try:
            os.unlink(os.path.join(self.path, folder, file_name(identifier)))
        except FileNotFoundError:
            pass

    def save_service(self, service: dict[str, Any]) -> None:
        self._write(SERVICES, service["ID"], {"Token": "", "Service": service, "Source": SOURCE_REMOTE})

    def purge_service(self, service_id: str) -> None:
        self._remove(SERVICES, service_id)

    def save_check(self, check: dict[str, Any], ttl: float, deregister_after: float | None) -> None:
        check_type: dict[str, Any] = {"CheckID": check["CheckID"], "Name": check["Name"],
                                      "Notes": check["Notes"], "TTL": round(ttl * 1e9)}
        if deregister_after is not None:
            check_type["DeregisterCriticalServiceAfter"] = round(deregister_after * 1e9)
        self._write(CHECKS, check["CheckID"], {"Check": check, "ChkType": check_type, "Token": "",
                                               "Source": SOURCE_REMOTE})

    def purge_check(self, check_id: str) -> None:
        self._remove(CHECKS, check_id)
        self.purge_check_state(check_id)

    def save_check_state(self, check_id: str, status: str, output: str, expires: int) -> None:
        self._write(CHECK_STATE, check_id, {"CheckID": check_id, "Output": output, "Status": status,
                                            "Expires": expires})

    def purge_check_state(self, check_id: str) -> None:
        self._remove(CHECK_STATE, check_id)

    # -- reads (what an agent does when it starts) -----------------------------

    def _documents(self, folder: str) -> list[dict[str, Any]]:
        directory = os.path.join(self.path, folder)
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            return []
        documents = []
        for name in names:
            path = os.path.join(directory, name)
            # Consul skips directories (checks/state lives in checks/) and half-written files.
            if os.path.isdir(path) or name.endswith("tmp"):
                continue
            try:
                with open(path, encoding="utf-8") as handle:
                    document = json.load(handle)
            except (OSError, ValueError):
                continue  # Consul logs "Failed decoding" and goes on
            if isinstance(document, dict):
                documents.append(document)
        return documents

    def load_services(self) -> list[dict[str, Any]]:
        return [d["Service"] for d in self._documents(SERVICES) if isinstance(d.get("Service"), dict)]

    def load_checks(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(Check, ChkType) of every persisted check."""
        return [(d["Check"], d["ChkType"]) for d in self._documents(CHECKS)
                if isinstance(d.get("Check"), dict) and isinstance(d.get("ChkType"), dict)]

    def load_check_state(self, check_id: str, wall_now: float) -> tuple[str, str] | None:
        """(status, output) to restore, as Consul's loadCheckState: None when there is no
        state file, and the file is deleted when it is unreadable or expired."""
        path = os.path.join(self.path, CHECK_STATE, file_name(check_id))
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.purge_check_state(check_id)
            return None
        expires = state.get("Expires") if isinstance(state, dict) else None
        if not isinstance(expires, int) or int(wall_now) >= expires:
            self.purge_check_state(check_id)
            return None
        return str(state.get("Status", "")), str(state.get("Output", ""))
