"""A minimal RESP2 client for the tests: one command per call, every socket call bounded.

The harness and the test-only stub hooks talk to redis-server and redis-sentinel through
this instead of a client library, so the suite needs nothing beyond the standard library.
"""

from __future__ import annotations

import socket
from typing import Callable, Union

Reply = Union[None, int, bytes, "RedisReplyError", list]


class RedisReplyError(Exception):
    """An error reply (`-ERR ...`) from the server."""


class RedisConnectionError(Exception):
    """The server could not be reached, closed the connection, or sent bad RESP."""


def _encode(args: tuple[Union[str, bytes, int], ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Reader:
    def __init__(self, sock: socket.socket, where: str) -> None:
        self._sock = sock
        self._buffer = b""
        self._where = where

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise RedisConnectionError(f"{self._where}: connection closed mid-reply")
        self._buffer += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _exact(self, count: int) -> bytes:
        while len(self._buffer) < count + 2:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count + 2 :]
        return data

    def reply(self) -> Reply:
        line = self._line()
        if not line:
            raise RedisConnectionError(f"{self._where}: empty reply line")
        kind, body = line[:1], line[1:]
        try:
            if kind == b"+":
                return body
            if kind == b"-":
                return RedisReplyError(body.decode(errors="replace"))
            if kind == b":":
                return int(body)
            if kind == b"$":
                length = int(body)
                return None if length < 0 else self._exact(length)
            if kind == b"*":
                count = int(body)
                return None if count < 0 else [self.reply() for _ in range(count)]
        except ValueError:
            raise RedisConnectionError(f"{self._where}: bad length in {line!r}") from None
        raise RedisConnectionError(f"{self._where}: unknown reply type in {line!r}")


def _connect(address: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def command(port: int, *args: Union[str, bytes, int], timeout: float = 2.0,
            host: str = "127.0.0.1", connect: Callable[[tuple[str, int], float], socket.socket] = _connect) -> Reply:
    """Sends one command and returns its reply; an error reply raises RedisReplyError.
    `connect` opens the connection (the chaos tests open it inside a network namespace)."""
    where = f"redis {host}:{port} {args[0] if args else ''}"
    try:
        with connect((host, port), timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_encode(args))
            reply = _Reader(sock, where).reply()
    except OSError as error:
        raise RedisConnectionError(f"{where}: {error}") from None
    if isinstance(reply, RedisReplyError):
        raise RedisReplyError(f"{where}: {reply}")
    return reply


def info(port: int, section: str = "replication", timeout: float = 2.0, host: str = "127.0.0.1",
         connect: Callable[[tuple[str, int], float], socket.socket] = _connect) -> dict[str, str]:
    """INFO <section> as a dict of its `key:value` lines."""
    reply = command(port, "INFO", section, timeout=timeout, host=host, connect=connect)
    if not isinstance(reply, bytes):
        raise RedisConnectionError(f"redis {host}:{port} INFO: unexpected reply {reply!r}")
    fields = {}
    for line in reply.decode(errors="replace").splitlines():
        key, separator, value = line.partition(":")
        if separator and not line.startswith("#"):
            fields[key] = value
    return fields


def pairs(reply: Reply) -> dict[str, str]:
    """A flat [k1, v1, k2, v2, ...] reply (SENTINEL MASTER, ...) as a dict of strings."""
    if not isinstance(reply, list) or len(reply) % 2:
        raise RedisConnectionError(f"expected a flat list of pairs, got {reply!r}")
    return {
        key.decode(errors="replace"): value.decode(errors="replace")
        for key, value in zip(reply[::2], reply[1::2])
        if isinstance(key, bytes) and isinstance(value, bytes)
    }
