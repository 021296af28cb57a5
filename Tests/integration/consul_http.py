"""A minimal Consul HTTP client for the tests (standard library, bounded calls).

Used by the harness to play ContainerPilot's service registration and to read the
cluster's view, and by the test-only stub hooks.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Optional


class ConsulHTTPError(Exception):
    """A Consul call failed: unreachable, timed out, or a non-2xx answer."""


class ConsulHTTP:
    def __init__(self, address: str, token: Optional[str] = None, timeout: float = 2.0) -> None:
        # `address` is CONSUL_HTTP_ADDR: http://host:port
        self.address = address.rstrip("/")
        self._token = token
        self._timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.address + path, data=data, method=method)
        if self._token:
            request.add_header("X-Consul-Token", self._token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:200].decode(errors="replace")
            raise ConsulHTTPError(f"{method} {self.address}{path}: HTTP {error.code} {detail}") from None
        except (OSError, ValueError) as error:
            raise ConsulHTTPError(f"{method} {self.address}{path}: {error}") from None
        if not payload:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            raise ConsulHTTPError(
                f"{method} {self.address}{path}: not JSON: {payload[:200]!r}"
            ) from None

    def answers(self) -> bool:
        """The agent answers HTTP at all, whatever the status (no leader yet, ACL denied).

        That is what the harness takes as the consul-agent job being healthy: ContainerPilot's
        `consul join` check needs a running agent, not a leader.
        """
        request = urllib.request.Request(self.address + "/v1/status/leader", method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout):
                return True
        except urllib.error.HTTPError as error:
            error.close()
            return True
        except (OSError, ValueError):
            return False

    def register_ttl_service(self, service_id: str, name: str, port: int, address: str,
                             ttl: str, status: str = "critical") -> None:
        self.request("PUT", "/v1/agent/service/register", {
            "ID": service_id,
            "Name": name,
            "Port": port,
            "Address": address,
            "Check": {"TTL": ttl, "Status": status,
                      "Notes": f"TTL for {name} set by the test harness"},
        })

    def pass_ttl(self, check_id: str, note: str = "ok") -> None:
        self.request("PUT", f"/v1/agent/check/pass/{check_id}?note={note}")

    def fail_ttl(self, check_id: str, note: str = "failed") -> None:
        self.request("PUT", f"/v1/agent/check/fail/{check_id}?note={note}")

    def deregister_service(self, service_id: str) -> None:
        self.request("PUT", f"/v1/agent/service/deregister/{service_id}")

    def agent_services(self) -> dict[str, Any]:
        return self.request("GET", "/v1/agent/services") or {}

    def passing(self, service: str) -> list[dict[str, Any]]:
        """/v1/health/service/<service>?passing: entries with Node, Service, Checks."""
        return self.request("GET", f"/v1/health/service/{service}?passing") or []
