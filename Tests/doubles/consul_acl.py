"""ACL tokens and policies for the Consul double, with Consul's rules for who may do what.

A policy is a JSON object shaped as Consul's HCL rules are:

    {"service_prefix": {"": "read", "redis": "write"}, "node_prefix": {"": "read"},
     "key_prefix": {"service/redis/": "write"}, "session_prefix": {"": "write"},
     "agent_prefix": {"": "read"}, "service": {"redis-sentinel": "deny"}}

An exact rule wins over any prefix rule, the longest prefix over shorter ones (Consul's
radix-tree lookup); `write` allows reading too; what no rule covers is denied
(`acl.default_policy = "deny"`). The string "management" instead of a policy allows
everything.

How Consul applies them, which the double follows:
- reads of lists (health, catalog, agent services and checks, KV recurse and keys,
  sessions) are answered 200 with what the token may not read left out, and the header
  `X-Consul-Results-Filtered-By-ACLs: true` when anything was;
- reads of one thing (a KV key, agent/self) and every write are refused with 403
  `Permission denied: token with AccessorID '...' lacks permission '<resource>:<access>' on "<name>"`;
- a token Consul does not know is 403 `ACL not found` on any call that resolves a token;
- /v1/status/* resolves no token: it always answers.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from consul_state import ConsulError

RESOURCES = ("service", "node", "key", "session", "agent")
ACCESS_LEVELS = ("deny", "read", "list", "write")
# What each kind of request needs: `write` allows reading, Consul's key `list` only listing.
GRANTS = {"read": {"read", "write"}, "write": {"write"}, "list": {"list", "read", "write"}}
ANONYMOUS_ACCESSOR = "00000000-0000-0000-0000-000000000002"
FILTERED_HEADER = "X-Consul-Results-Filtered-By-ACLs"


@dataclass(frozen=True)
class Authorizer:
    accessor: str
    management: bool
    rules: dict[str, tuple[dict[str, str], dict[str, str]]]  # resource -> (exact, prefix)

    def access(self, resource: str, name: str) -> str:
        if self.management:
            return "write"
        exact, prefixes = self.rules.get(resource, ({}, {}))
        if name in exact:
            return exact[name]
        best = None
        for prefix, access in prefixes.items():
            if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, access)
        return best[1] if best else "deny"

    def allows(self, resource: str, name: str, access: str) -> bool:
        return self.access(resource, name) in GRANTS[access]

    def require(self, resource: str, name: str, access: str) -> None:
        if not self.allows(resource, name, access):
            raise ConsulError(403, f"Permission denied: token with AccessorID '{self.accessor}' "
                                   f"lacks permission '{resource}:{access}' on \"{name}\"")


ALLOW_ALL = Authorizer(accessor="", management=True, rules={})


def parse_policy(raw: Any, where: str) -> tuple[bool, dict[str, tuple[dict[str, str], dict[str, str]]]]:
    if raw == "management":
        return True, {}
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a policy is \"management\" or an object of rules")
    rules: dict[str, tuple[dict[str, str], dict[str, str]]] = {r: ({}, {}) for r in RESOURCES}
    for kind, entries in raw.items():
        resource, _, prefix = kind.partition("_")
        if resource not in RESOURCES or prefix not in ("", "prefix"):
            raise ValueError(f"{where}: unknown rule {kind!r}")
        if not isinstance(entries, dict):
            raise ValueError(f"{where}.{kind}: expected an object of name: access")
        for name, access in entries.items():
            if access not in ACCESS_LEVELS or (access == "list" and resource != "key"):
                raise ValueError(f"{where}.{kind}.{name}: invalid access {access!r}")
            rules[resource][1 if prefix else 0][name] = access
    return False, rules


class ACLs:
    """The tokens a datacenter knows. Without any, ACLs are off and everything is allowed."""

    def __init__(self, tokens: dict[str, Any] | None = None, anonymous: Any = None):
        self.enabled = bool(tokens)
        self._tokens: dict[str, Authorizer] = {}
        for secret, raw in (tokens or {}).items():
            management, rules = parse_policy(raw, f"tokens[{secret[:4]}...]")
            self._tokens[secret] = Authorizer(str(uuid.uuid5(uuid.NAMESPACE_OID, secret)),
                                              management, rules)
        management, rules = parse_policy(anonymous or {}, "anonymous")
        self._anonymous = Authorizer(ANONYMOUS_ACCESSOR, management, rules)

    @classmethod
    def from_file(cls, path: str, management_token: str | None = None) -> ACLs:
        """`{"tokens": {"SECRET": policy, ...}, "anonymous": policy}`."""
        with open(path) as handle:
            document = json.load(handle)
        tokens = dict(document.get("tokens") or {})
        if management_token:
            tokens[management_token] = "management"
        return cls(tokens, document.get("anonymous"))

    def resolve(self, token: str | None) -> Authorizer:
        if not self.enabled:
            return ALLOW_ALL
        if not token:
            return self._anonymous
        authorizer = self._tokens.get(token)
        if authorizer is None:
            raise ConsulError(403, "ACL not found")
        return authorizer
