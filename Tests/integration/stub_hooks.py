#!/usr/bin/env python3
"""TEST-ONLY stand-ins for redis-manage's lifecycle hooks. NOT the product.

They let the integration bed run a real 3-node Redis + Sentinel cluster before
redis-manage's own hooks exist, and check the harness itself. They know nothing of
bootstrap locks, failover or backups: the first node (STUB_MASTER_REDIS_PORT) is always the
master. The harness runs them through a `redis-manage` shim on PATH (harness.StubHooks):

    redis-manage preStart|onStart|health|healthSentinel|preStop|backup
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import resp
from consul_http import ConsulHTTP, ConsulHTTPError

ROLE_SERVICES = {"master": "redis", "slave": "redis-replica", "replica": "redis-replica"}


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"stub_hooks: {name} is not set")
    return value


def _consul() -> ConsulHTTP:
    return ConsulHTTP(_env("CONSUL_HTTP_ADDR"), token=os.environ.get("CONSUL_HTTP_TOKEN"))


def _service_id(service: str) -> str:
    return f"{service}-{_env('HOSTNAME')}"


def on_start() -> int:
    port = _env("REDIS_PORT")
    master_port = _env("STUB_MASTER_REDIS_PORT")
    lines = [
        f"port {port}",
        "bind 127.0.0.1",
        f"dir {_env('REDIS_DATA_DIR')}",
        "appendonly yes",
        "daemonize no",
        'logfile ""',
        f"pidfile {Path(_env('REDIS_RUN_DIR')) / 'redis.pid'}",
        f"replica-announce-ip {_env('REDIS_ANNOUNCE_IP')}",
    ]
    if port != master_port:
        lines.append(f"replicaof 127.0.0.1 {master_port}")
    Path(_env("REDIS_CONF")).write_text("\n".join(lines) + "\n")
    Path(_env("SENTINEL_CONF")).write_text("\n".join([
        f"port {_env('SENTINEL_PORT')}",
        "bind 127.0.0.1",
        "daemonize no",
        'logfile ""',
        f"dir {_env('REDIS_RUN_DIR')}",
        f"sentinel announce-ip {_env('REDIS_ANNOUNCE_IP')}",
        f"sentinel monitor mymaster 127.0.0.1 {master_port} 2",
        "sentinel down-after-milliseconds mymaster 1000",
    ]) + "\n")
    print(f"stub onStart: wrote {_env('REDIS_CONF')} ({'master' if port == master_port else 'replica'}) "
          f"and {_env('SENTINEL_CONF')}")
    return 0


def health() -> int:
    port = int(_env("REDIS_PORT"))
    try:
        if resp.command(port, "PING") != b"PONG":
            print("stub health: PING did not answer PONG")
            return 1
        role = resp.info(port).get("role", "")
    except (resp.RedisConnectionError, resp.RedisReplyError) as error:
        print(f"stub health: {error}")
        return 1
    service = ROLE_SERVICES.get(role)
    if service is None:
        print(f"stub health: unknown role {role!r}")
        return 1
    consul = _consul()
    try:
        registered = consul.agent_services()
        for other in set(ROLE_SERVICES.values()) - {service}:
            if _service_id(other) in registered:
                consul.deregister_service(_service_id(other))
        if _service_id(service) not in registered:
            consul.register_ttl_service(_service_id(service), service, port,
                                        _env("REDIS_ANNOUNCE_IP"), _env("STUB_ROLE_TTL"))
        consul.pass_ttl(f"service:{_service_id(service)}")
    except ConsulHTTPError as error:
        print(f"stub health: {error}")
        return 1
    return 0


def health_sentinel() -> int:
    # As redis-manage does: Sentinel registers itself at the announced address.
    port = int(_env("SENTINEL_PORT"))
    try:
        if resp.command(port, "PING") != b"PONG":
            return 1
    except (resp.RedisConnectionError, resp.RedisReplyError) as error:
        print(f"stub healthSentinel: {error}")
        return 1
    service_id = _service_id("redis-sentinel")
    consul = _consul()
    try:
        if service_id not in consul.agent_services():
            consul.register_ttl_service(service_id, "redis-sentinel", port, _env("REDIS_ANNOUNCE_IP"), _env("STUB_ROLE_TTL"))
        consul.pass_ttl(f"service:{service_id}")
    except ConsulHTTPError as error:
        print(f"stub healthSentinel: {error}")
        return 1
    return 0


def pre_stop() -> int:
    consul = _consul()
    try:
        registered = consul.agent_services()
        for service in set(ROLE_SERVICES.values()) | {"redis-sentinel"}:
            if _service_id(service) in registered:
                consul.deregister_service(_service_id(service))
    except ConsulHTTPError as error:
        print(f"stub preStop: {error}")
    return 0


def nothing() -> int:
    return 0


def start_redis() -> int:
    os.execvp("redis-server", ["redis-server", _env("REDIS_CONF")])


HOOKS = {
    "preStart": nothing,
    "onStart": on_start,
    "startRedis": start_redis,
    "health": health,
    "healthSentinel": health_sentinel,
    "preStop": pre_stop,
    "backup": nothing,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in HOOKS:
        print(f"usage: redis-manage (test stub) {'|'.join(HOOKS)}", file=sys.stderr)
        return 2
    return HOOKS[argv[1]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
