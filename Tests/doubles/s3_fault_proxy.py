#!/usr/bin/env python3
"""An HTTP proxy in front of an S3 server (moto) that injects S3's bad days.

    python3 Tests/doubles/s3_fault_proxy.py --upstream http://127.0.0.1:PORT \
        [--upstream-ca CA.pem] [--tls-cert CERT --tls-key KEY] [--ready-file PATH]

Requests are passed on byte for byte (the Host header included, so SigV4 signatures made
for the proxy's address still verify upstream) unless a fault is armed. Once listening,
`{"port": P, "control_port": C, "pid": N}` is written atomically to --ready-file and
printed. SIGTERM stops it.

Control API (http, on the control port):

| request | effect |
|---|---|
| `POST /faults?kind=K[&count=N][&method=M][&match=TEXT]` | the next N (1) requests (of method M, whose target contains TEXT) get fault K instead of reaching S3 |
| `DELETE /faults` | forget the faults not yet served |
| `GET /requests` | every request so far: method, target, and status or the fault served |

Faults, as AWS S3 answers them (its error-code list; the SDKs' standard retry mode retries
all of them): `InternalError` (500), `SlowDown` (503), `ServiceUnavailable` (503),
`RequestTimeout` (400: the server gave up reading the body), and `reset` (the connection
is reset, with an RST, after half the body is read). moto produces none of them itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ADDRESS = "127.0.0.1"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}

ERRORS = {
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "SlowDown": (503, "Please reduce your request rate."),
    "ServiceUnavailable": (503, "Reduce your request rate."),
    "RequestTimeout": (400, "Your socket connection to the server was not read from or written to "
                            "within the timeout period. Idle connections will be closed."),
}
KINDS = tuple(ERRORS) + ("reset",)


@dataclass
class Fault:
    kind: str
    count: int
    method: str | None
    match: str


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.armed: list[Fault] = []
        self.log: list[dict[str, Any]] = []

    def take(self, method: str, target: str) -> str | None:
        with self.lock:
            for fault in self.armed:
                if fault.method in (None, method) and fault.match in target:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.armed.remove(fault)
                    return fault.kind
        return None

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults: Faults
    upstream: urllib.parse.SplitResult
    upstream_context: ssl.SSLContext | None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.relay()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def read_body(self, limit: int | None = None) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length if limit is None else min(limit, length))

    def relay(self) -> None:
        entry: dict[str, Any] = {"method": self.command, "target": self.path}
        self.faults.record(entry)
        kind = self.faults.take(self.command, self.path)
        if kind == "reset":
            entry["fault"] = "reset"
            self.read_body(int(self.headers.get("Content-Length") or 0) // 2)
            # SO_LINGER with a zero timeout: close() sends an RST, not a FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        body = self.read_body()
        if kind is not None:
            entry["fault"] = kind
            status, message = ERRORS[kind]
            request_id = uuid.uuid4().hex[:16].upper()
            payload = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{kind}</Code>'
                       f"<Message>{message}</Message><RequestId>{request_id}</RequestId>"
                       f"<HostId>{uuid.uuid4().hex}</HostId></Error>").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("x-amz-request-id", request_id)
            self.send_header("Content-Length", str(len(payload)))
            if kind == "RequestTimeout":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        self.forward(body, entry)

    def forward(self, body: bytes, entry: dict[str, Any]) -> None:
        host, port = self.upstream.hostname, self.upstream.port
        if self.upstream.scheme == "https":
            upstream = http.client.HTTPSConnection(host, port, timeout=120, context=self.upstream_context)
        else:
            upstream = http.client.HTTPConnection(host, port, timeout=120)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    upstream.putheader(name, value)
            upstream.endheaders(body or None)
            response = upstream.getresponse()
            payload = response.read()
            entry["status"] = response.status
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and not (name.lower() == "content-length" and self.command != "HEAD"):
                    self.send_header(name, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            upstream.close()


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults: Faults

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def reply(self, status: int, value: Any) -> None:
        payload = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if urllib.parse.urlsplit(self.path).path == "/requests":
            with self.faults.lock:
                self.reply(200, list(self.faults.log))
        else:
            self.reply(404, {"error": f"no control endpoint GET {self.path}"})

    def do_DELETE(self) -> None:
        if urllib.parse.urlsplit(self.path).path == "/faults":
            with self.faults.lock:
                self.faults.armed.clear()
            self.reply(200, {})
        else:
            self.reply(404, {"error": f"no control endpoint DELETE {self.path}"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query)
        if split.path != "/faults":
            self.reply(404, {"error": f"no control endpoint POST {self.path}"})
            return
        kind = query.get("kind", [""])[0]
        try:
            count = int(query.get("count", ["1"])[0])
        except ValueError:
            count = 0
        if kind not in KINDS or count < 1:
            self.reply(400, {"error": f"kind must be one of {', '.join(KINDS)}, count >= 1"})
            return
        method = query.get("method", [None])[0]
        with self.faults.lock:
            self.faults.armed.append(Fault(kind, count, method.upper() if method else None,
                                           query.get("match", [""])[0]))
        self.reply(200, {})


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injecting proxy in front of an S3 server")
    parser.add_argument("--upstream", required=True, help="the S3 server, http(s)://host:port")
    parser.add_argument("--upstream-ca", help="CA bundle that signed an https upstream's certificate")
    parser.add_argument("--tls-cert", help="serve https with this PEM certificate")
    parser.add_argument("--tls-key", help="the private key of --tls-cert")
    parser.add_argument("--ready-file", help="where to write {port, control_port, pid} once listening")
    args = parser.parse_args(argv)
    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.scheme not in ("http", "https") or not upstream.port:
        parser.error("--upstream must be http(s)://host:port")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")

    faults = Faults()
    ProxyHandler.faults = ControlHandler.faults = faults
    ProxyHandler.upstream = upstream
    ProxyHandler.upstream_context = ssl.create_default_context(cafile=args.upstream_ca) \
        if upstream.scheme == "https" else None
    proxy = Server((ADDRESS, 0), ProxyHandler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        proxy.socket = context.wrap_socket(proxy.socket, server_side=True, do_handshake_on_connect=False)
    control = Server((ADDRESS, 0), ControlHandler)
    for server in (proxy, control):
        threading.Thread(target=server.serve_forever, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    document = {"port": proxy.server_address[1], "control_port": control.server_address[1], "pid": os.getpid()}
    if args.ready_file:
        temporary = f"{args.ready_file}.{os.getpid()}.tmp"
        with open(temporary, "w") as handle:
            json.dump(document, handle)
        os.replace(temporary, args.ready_file)
    print(json.dumps(document), flush=True)
    stop.wait()
    proxy.shutdown()
    control.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
