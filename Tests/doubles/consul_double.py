#!/usr/bin/env python3
"""A Consul HTTP API double: several agents over one catalog, in one process.

    python3 Tests/doubles/consul_double.py --agents node1,node2,node3 \
        [--leader-delay SECONDS] [--token TOKEN] [--ready-file PATH] \
        [--session-ttl-min SECONDS] [--data-dir 'DIR/{node}'] [--verbose]

Each agent listens on its own free 127.0.0.1 port (or on --listen's address); a control
port lets tests kill, revive and add agents and switch the leader. Once everything listens, the ready
document `{"agents": {NODE: {"port": P, "address": "127.0.0.1"}}, "control_port": C,
"pid": N}` is written atomically to --ready-file (and printed on stdout).
The semantics live in consul_state.py; this file is HTTP only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from consul_acl import ACLs, FILTERED_HEADER, Authorizer  # noqa: E402
from consul_state import (  # noqa: E402
    CHECK_STATUSES, CRITICAL, DATACENTER, KV_MAX_VALUE_SIZE, NODE_ADDRESS, PASSING, WARNING,
    AgentUnavailable, ConsulError, ConsulState, Fields, Timing, parse_go_duration,
)

DEFAULT_WAIT = 300.0
MAX_WAIT = 600.0
NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Reply:
    """A response: status, body bytes, content type and extra headers."""

    def __init__(self, status: int, body: bytes = b"", content_type: str = "application/json",
                 headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(value).encode(), "application/json", headers)

    @classmethod
    def text(cls, status: int, message: str) -> Reply:
        return cls(status, message.encode(), "text/plain; charset=utf-8")


class Request:
    """What a route handler needs from one HTTP request."""

    def __init__(self, method: str, target: str, headers: Any, body: bytes):
        split = urllib.parse.urlsplit(target)
        self.method = method
        self.path = urllib.parse.unquote(split.path)
        self.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.authz: Authorizer | None = None

    def has(self, name: str) -> bool:
        return name in self.query

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def uint_param(self, name: str) -> int | None:
        if name not in self.query:
            return None
        text = self.param(name)
        if not text.isdigit() or int(text) >= 2**64:
            raise ConsulError(400, f"Invalid {name}: {text!r} is not an unsigned integer")
        return int(text)

    def bool_param(self, name: str) -> bool:
        if name not in self.query:
            return False
        text = self.param(name).lower()
        if text in ("", "1", "t", "true"):
            return True
        if text in ("0", "f", "false"):
            return False
        raise ConsulError(400, f"Invalid value for ?{name}: {text!r}")

    def json_body(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise ConsulError(400, f"Request decode failed: {error}") from None

    def token(self) -> str | None:
        header = self.headers.get("X-Consul-Token")
        if header:
            return header
        authorization = self.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            return authorization[7:].strip()
        if "token" in self.query:
            return self.param("token")
        return None


Route = tuple[frozenset[str], re.Pattern[str], Callable[..., Reply]]


class ConsulAPI:
    """The /v1 endpoints of one agent."""

    def __init__(self, state: ConsulState, node: str, acls: ACLs):
        self.state = state
        self.node = node
        self.acls = acls
        self.routes: list[Route] = []
        add = self._route
        add("GET", r"/v1/status/leader", self.status_leader)
        add("GET", r"/v1/status/peers", self.status_peers)
        add("GET", r"/v1/agent/self", self.agent_self)
        add("GET", r"/v1/agent/services", self.agent_services)
        add("GET", r"/v1/agent/checks", self.agent_checks)
        add("PUT", r"/v1/agent/service/register", self.service_register)
        add("PUT", r"/v1/agent/service/deregister/(?P<id>.+)", self.service_deregister)
        add("PUT", r"/v1/agent/check/register", self.check_register)
        add("PUT", r"/v1/agent/check/deregister/(?P<id>.+)", self.check_deregister)
        add("PUT", r"/v1/agent/check/(?P<verb>pass|warn|fail)/(?P<id>.+)", self.check_verb)
        add("PUT", r"/v1/agent/check/update/(?P<id>.+)", self.check_update)
        add("GET", r"/v1/health/service/(?P<name>.+)", self.health_service)
        add("GET", r"/v1/catalog/service/(?P<name>.+)", self.catalog_service)
        add("GET PUT DELETE", r"/v1/kv(?:/(?P<key>.*))?", self.kv)
        add("PUT", r"/v1/session/create", self.session_create)
        add("PUT", r"/v1/session/destroy/(?P<id>.*)", self.session_destroy)
        add("PUT", r"/v1/session/renew/(?P<id>.*)", self.session_renew)
        add("GET", r"/v1/session/info/(?P<id>.*)", self.session_info)
        add("GET", r"/v1/session/list", self.session_list)
        add("GET", r"/v1/session/node/(?P<node>.*)", self.session_node)

    def _route(self, methods: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append((frozenset(methods.split()), re.compile(pattern + r"\Z"), handler))

    def handle(self, request: Request) -> Reply:
        # Consul's status endpoints resolve no token at all.
        if request.path.startswith("/v1/") and not request.path.startswith("/v1/status/"):
            request.authz = self.acls.resolve(request.token())
        if request.param("dc") not in ("", DATACENTER):
            return Reply.text(500, "No path to datacenter")
        for methods, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            if request.method not in methods:
                return Reply.text(405, f"method {request.method} not allowed")
            return handler(request, **{k: v or "" for k, v in match.groupdict().items()})
        return Reply.text(404, "404 page not found")

    # -- blocking reads ------------------------------------------------------

    @staticmethod
    def _authz(request: Request) -> Authorizer:
        assert request.authz is not None
        return request.authz

    def _read(self, request: Request, query: Callable[[], tuple[int, Any]],
              render: Callable[[Any], Reply] = Reply.json,
              keep: Callable[[Authorizer, Any], bool] | None = None) -> Reply:
        """`keep` filters a list answer by the token's rights; Consul then says so in
        X-Consul-Results-Filtered-By-ACLs."""
        min_index = request.uint_param("index") or 0
        wait = DEFAULT_WAIT
        if request.has("wait"):
            try:
                wait = parse_go_duration(request.param("wait"))
            except ValueError:
                raise ConsulError(400, "Invalid wait time") from None
            if wait < 0:
                raise ConsulError(400, "Invalid wait time")
        wait = min(wait, MAX_WAIT)
        # Consul adds up to wait/16 so that many watchers do not wake together.
        wait += random.uniform(0, wait / 16)
        stale = request.has("stale")
        index, result = self.state.read(self.node, query, min_index=min_index, wait=wait,
                                        needs_leader=not stale)
        filtered = False
        if keep is not None:
            authz = self._authz(request)
            kept = [item for item in result if keep(authz, item)]
            filtered, result = len(kept) != len(result), kept
        reply = render(result)
        if filtered:
            reply.headers[FILTERED_HEADER] = "true"
        reply.headers.update({
            "X-Consul-Index": str(index),
            "X-Consul-KnownLeader": "true" if self.state.has_leader() else "false",
            "X-Consul-LastContact": "0",
        })
        return reply

    # -- status and agent ------------------------------------------------------

    def status_leader(self, request: Request) -> Reply:
        return Reply.json(self.state.leader(self.node))

    def status_peers(self, request: Request) -> Reply:
        leader = self.state.leader(self.node)
        return Reply.json([leader] if leader else [])

    def agent_self(self, request: Request) -> Reply:
        self._authz(request).require("agent", self.node, "read")
        return Reply.json(self.state.agent_self(self.node))

    def _filtered_map(self, request: Request, entries: dict[str, Any],
                      keep: Callable[[Authorizer, Any], bool]) -> Reply:
        authz = self._authz(request)
        kept = {key: value for key, value in entries.items() if keep(authz, value)}
        headers = {FILTERED_HEADER: "true"} if len(kept) != len(entries) else None
        return Reply.json(kept, headers=headers)

    def agent_services(self, request: Request) -> Reply:
        return self._filtered_map(request, self.state.agent_services(self.node),
                                  lambda authz, s: authz.allows("service", s["Service"], "read"))

    def agent_checks(self, request: Request) -> Reply:
        return self._filtered_map(request, self.state.agent_checks(self.node), self._may_read_check)

    def _may_read_check(self, authz: Authorizer, check: dict[str, Any]) -> bool:
        if check["ServiceName"]:
            return authz.allows("service", check["ServiceName"], "read")
        return authz.allows("node", self.node, "read")

    def _require_check_write(self, request: Request, check_id: str) -> None:
        """vetCheckUpdate: service:write for a service's check, node:write for a node's."""
        check = self.state.agent_checks(self.node).get(check_id)
        if check is None:
            return  # the state answers Consul's 404
        if check["ServiceName"]:
            self._authz(request).require("service", check["ServiceName"], "write")
        else:
            self._authz(request).require("node", self.node, "write")

    def service_register(self, request: Request) -> Reply:
        body = request.json_body()
        name = Fields(body, "service").string("name")
        if name:
            self._authz(request).require("service", name, "write")
        self.state.register_service(self.node, body, request.bool_param("replace-existing-checks"))
        return Reply(200)

    def service_deregister(self, request: Request, id: str) -> Reply:
        service = self.state.agent_services(self.node).get(id)
        if service is not None:
            self._authz(request).require("service", service["Service"], "write")
        self.state.deregister_service(self.node, id)
        return Reply(200)

    def check_register(self, request: Request) -> Reply:
        body = request.json_body()
        service_id = Fields(body, "check").string("serviceid")
        service = self.state.agent_services(self.node).get(service_id) if service_id else None
        if service is not None:
            self._authz(request).require("service", service["Service"], "write")
        elif not service_id:
            self._authz(request).require("node", self.node, "write")
        self.state.register_check(self.node, body)
        return Reply(200)

    def check_deregister(self, request: Request, id: str) -> Reply:
        self._require_check_write(request, id)
        self.state.deregister_check(self.node, id)
        return Reply(200)

    def check_verb(self, request: Request, verb: str, id: str) -> Reply:
        status = {"pass": PASSING, "warn": WARNING, "fail": CRITICAL}[verb]
        self._require_check_write(request, id)
        self.state.update_ttl_check(self.node, id, status, request.param("note"))
        return Reply(200)

    def check_update(self, request: Request, id: str) -> Reply:
        body = request.json_body()
        if not isinstance(body, dict):
            raise ConsulError(400, "Request decode failed: body must be a JSON object")
        status = body.get("Status", body.get("status", ""))
        output = body.get("Output", body.get("output", ""))
        if status not in CHECK_STATUSES:
            raise ConsulError(400, f"Invalid check status: '{status}'")
        if not isinstance(output, str):
            raise ConsulError(400, "Request decode failed: Output must be a string")
        self._require_check_write(request, id)
        self.state.update_ttl_check(self.node, id, status, output)
        return Reply(200)

    # -- catalog and health ------------------------------------------------------

    def health_service(self, request: Request, name: str) -> Reply:
        passing = request.bool_param("passing")
        tags = request.query.get("tag", [])
        return self._read(request, lambda: self.state.query_health_service(name, passing, tags),
                          keep=lambda authz, entry: authz.allows("service", name, "read")
                          and authz.allows("node", entry["Node"]["Node"], "read"))

    def catalog_service(self, request: Request, name: str) -> Reply:
        tags = request.query.get("tag", [])
        return self._read(request, lambda: self.state.query_catalog_service(name, tags),
                          keep=lambda authz, entry: authz.allows("service", name, "read")
                          and authz.allows("node", entry["Node"], "read"))

    # -- KV ----------------------------------------------------------------------

    def kv(self, request: Request, key: str) -> Reply:
        if request.method == "GET":
            return self._kv_get(request, key)
        if request.method == "PUT":
            return self._kv_put(request, key)
        return self._kv_delete(request, key)

    def _kv_get(self, request: Request, key: str) -> Reply:
        if request.has("keys"):
            separator = request.param("separator", request.param("seperator"))

            def render_keys(keys: list[str]) -> Reply:
                if not keys and key:
                    return Reply(404)
                return Reply.json(keys)

            return self._read(request, lambda: self.state.query_kv_keys(key, separator),
                              render_keys, keep=lambda authz, k: authz.allows("key", k, "list"))
        recurse = request.has("recurse")
        if not recurse and not key:
            raise ConsulError(400, "Missing key name")
        if not recurse:
            self._authz(request).require("key", key, "read")
        raw = request.has("raw") and not recurse

        def render(entries: list[Any]) -> Reply:
            if not entries:
                return Reply(404)
            if raw:
                return Reply(200, entries[0].value, "text/plain",
                             {"X-Content-Type-Options": "nosniff",
                              "Content-Security-Policy": "sandbox"})
            return Reply.json([e.json() for e in entries])

        return self._read(request, lambda: self.state.query_kv(key, recurse), render,
                          keep=lambda authz, entry: authz.allows("key", entry.key, "read"))

    def _kv_put(self, request: Request, key: str) -> Reply:
        if not key:
            raise ConsulError(400, "Missing key name")
        _reject_conflicting(request, "cas", "acquire", "release")
        if len(request.body) > KV_MAX_VALUE_SIZE:
            raise ConsulError(413, f"Request body({len(request.body)} bytes) too large, max size: "
                                   f"{KV_MAX_VALUE_SIZE} bytes.")
        flags = request.uint_param("flags") or 0
        self._authz(request).require("key", key, "write")
        result = self.state.kv_put(
            self.node, key, request.body, flags, cas=request.uint_param("cas"),
            acquire=request.param("acquire") if request.has("acquire") else None,
            release=request.param("release") if request.has("release") else None)
        return Reply.json(result)

    def _kv_delete(self, request: Request, key: str) -> Reply:
        _reject_conflicting(request, "recurse", "cas")
        recurse = request.has("recurse")
        if not recurse and not key:
            raise ConsulError(400, "Missing key name")
        self._authz(request).require("key", key, "write")
        return Reply.json(self.state.kv_delete(self.node, key, recurse=recurse,
                                               cas=request.uint_param("cas")))

    # -- sessions ------------------------------------------------------------------

    def session_create(self, request: Request) -> Reply:
        body = request.json_body()
        node = Fields(body, "session").string("node") or self.node
        self._authz(request).require("session", node, "write")
        session_id = self.state.create_session(self.node, body)
        return Reply.json({"ID": session_id})

    def _require_session_write(self, request: Request, session_id: str) -> None:
        _, found = self.state.read(self.node, lambda: self.state.query_session(session_id),
                                   needs_leader=False)
        if found:
            self._authz(request).require("session", found[0]["Node"], "write")

    def session_destroy(self, request: Request, id: str) -> Reply:
        if not id:
            raise ConsulError(400, "Missing session")
        self._require_session_write(request, id)
        self.state.destroy_session(self.node, id)
        return Reply.json(True)

    def session_renew(self, request: Request, id: str) -> Reply:
        if not id:
            raise ConsulError(400, "Missing session")
        self._require_session_write(request, id)
        sessions = self.state.renew_session(self.node, id)
        if sessions is None:
            return Reply.text(404, f"Session id '{id}' not found")
        return Reply.json(sessions)

    def session_info(self, request: Request, id: str) -> Reply:
        if not id:
            raise ConsulError(400, "Missing session")
        return self._read(request, lambda: self.state.query_session(id),
                          keep=lambda authz, s: authz.allows("session", s["Node"], "read"))

    def session_list(self, request: Request) -> Reply:
        return self._read(request, lambda: self.state.query_sessions(None),
                          keep=lambda authz, s: authz.allows("session", s["Node"], "read"))

    def session_node(self, request: Request, node: str) -> Reply:
        if not node:
            raise ConsulError(400, "Missing node name")
        return self._read(request, lambda: self.state.query_sessions(node),
                          keep=lambda authz, s: authz.allows("session", s["Node"], "read"))


def _reject_conflicting(request: Request, *names: str) -> None:
    if sum(1 for name in names if request.has(name)) > 1:
        raise ConsulError(400, f"Conflicting flags: {urllib.parse.urlencode(request.query, doseq=True)}")


# ---------------------------------------------------------------------------
# HTTP plumbing

class TrackingHTTPServer(ThreadingHTTPServer):
    """Remembers open connections so a killed agent can cut them all at once."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, app: Callable[[Request], Reply],
                 verbose: bool):
        self.app = app
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client refusing the certificate is what some tests are about, not a fault.
        if isinstance(sys.exc_info()[1], ssl.SSLError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def sever_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TrackingHTTPServer

    def version_string(self) -> str:
        return "ConsulDouble"

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise ConsulError(400, "malformed chunked body") from None
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit():
            raise ConsulError(400, "invalid Content-Length")
        return self.rfile.read(int(length))

    def _serve(self) -> None:
        try:
            try:
                request = Request(self.command, self.path, self.headers, self._read_body())
                reply = self.server.app(request)
            except ConsulError as error:
                reply = Reply.text(error.status, error.message)
            except AgentUnavailable:
                # A dead agent answers nothing: the client sees the connection close.
                self.close_connection = True
                return
            except Exception as error:  # the double must answer, and say what broke
                self.log_error("internal error: %r", error)
                reply = Reply.text(500, f"consul double internal error: {error!r}")
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.server.server_address[1]} {format % args}\n")


class AgentServer:
    """One agent's HTTP listener; stopping it refuses connections and cuts open ones."""

    def __init__(self, api: ConsulAPI, verbose: bool, port: int = 0,
                 tls: ssl.SSLContext | None = None, address: str = NODE_ADDRESS):
        self.api = api
        self.address = address
        self.verbose = verbose
        self.port = port
        self.tls = tls
        self._httpd: TrackingHTTPServer | None = None

    def start(self) -> None:
        self._httpd = TrackingHTTPServer((self.address, self.port), Handler, self.api.handle,
                                         self.verbose)
        if self.tls is not None:
            # The handshake runs in the request's thread: a stalled client holds up only itself.
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True,
                                                      do_handshake_on_connect=False)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         name=f"agent-{self.api.node}", daemon=True).start()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.sever_connections()


class ConsulDouble:
    """The agents, the control API and the ready document."""

    def __init__(self, state: ConsulState, acls: ACLs, ready_file: str | None,
                 verbose: bool, tls: ssl.SSLContext | None = None, listen: str = NODE_ADDRESS):
        self.state = state
        self.listen = listen
        self.acls = acls
        self.tls = tls
        self.ready_file = ready_file
        self.verbose = verbose
        self.agents: dict[str, AgentServer] = {}
        self._agents_lock = threading.Lock()
        self._control: TrackingHTTPServer | None = None

    def start(self) -> None:
        for node in self.state.node_names():
            self._start_agent(node)
        self._control = TrackingHTTPServer((NODE_ADDRESS, 0), Handler, self.control, self.verbose)
        threading.Thread(target=self._control.serve_forever, kwargs={"poll_interval": 0.1},
                         name="control", daemon=True).start()
        self.publish()

    def _start_agent(self, node: str) -> AgentServer:
        server = AgentServer(ConsulAPI(self.state, node, self.acls), self.verbose, tls=self.tls,
                             address=self.listen)
        server.start()
        with self._agents_lock:
            self.agents[node] = server
        return server

    def ready_document(self) -> dict[str, Any]:
        with self._agents_lock:
            agents = {node: {"port": s.port, "address": s.address}
                      for node, s in self.agents.items()}
        assert self._control is not None
        return {"agents": agents, "control_port": self._control.server_address[1],
                "pid": os.getpid(), "scheme": "https" if self.tls else "http"}

    def publish(self) -> None:
        document = json.dumps(self.ready_document())
        if self.ready_file:
            temporary = f"{self.ready_file}.{os.getpid()}.tmp"
            with open(temporary, "w") as handle:
                handle.write(document)
            os.replace(temporary, self.ready_file)
        print(document, flush=True)

    def shutdown(self) -> None:
        with self._agents_lock:
            servers = list(self.agents.values())
        for server in servers:
            server.stop()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()

    # -- control API ---------------------------------------------------------

    def control(self, request: Request) -> Reply:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "GET" and parts == ["control", "state"]:
            return Reply.json(self.state.dump())
        if request.method != "PUT":
            return Reply.text(405, f"method {request.method} not allowed")
        if len(parts) == 4 and parts[:3] == ["control", "agent", "add"]:
            return self._add_agent(parts[3])
        if len(parts) == 4 and parts[:2] == ["control", "agent"] and parts[3] in ("kill", "revive"):
            sync_after = request.param("sync_after")
            try:
                delay = float(sync_after) if sync_after else None
            except ValueError:
                raise ConsulError(400, f"sync_after must be seconds, not {sync_after!r}") from None
            return self._kill_or_revive(parts[2], parts[3], delay)
        if len(parts) == 4 and parts[:2] == ["control", "agent"] and parts[3] in ("partition", "heal"):
            if parts[3] == "partition":
                self.state.partition_agent(parts[2])
            else:
                self.state.heal_agent(parts[2])
            return Reply.json({"node": parts[2], "partitioned": parts[3] == "partition"})
        if len(parts) == 4 and parts[:2] == ["control", "agent"] and parts[3] == "sync":
            self.state.sync_agent(parts[2])
            return Reply.json({"node": parts[2], "synced": True})
        if len(parts) == 3 and parts[:2] == ["control", "leader"] and parts[2] in ("on", "off"):
            self.state.set_leader(parts[2] == "on")
            return Reply.json({"leader": parts[2]})
        return Reply.text(404, "unknown control endpoint")

    def _add_agent(self, node: str) -> Reply:
        if not NODE_NAME.match(node) or node == "add":
            raise ConsulError(400, f"invalid node name {node!r}")
        self.state.add_agent(node)
        server = self._start_agent(node)
        self.publish()
        return Reply.json({"node": node, "port": server.port, "address": server.address})

    def _kill_or_revive(self, node: str, action: str, sync_after: float | None = None) -> Reply:
        with self._agents_lock:
            server = self.agents.get(node)
        if server is None:
            raise ConsulError(404, f"no agent named {node!r}")
        if action == "kill":
            self.state.kill_agent(node)
            server.stop()
        else:
            if not self.state.agent_alive(node):
                try:
                    server.start()
                except OSError as error:
                    raise ConsulError(500, f"cannot listen again on port {server.port}: {error}")
            self.state.revive_agent(node, sync_after)
        return Reply.json({"node": node, "alive": action == "revive", "port": server.port})


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Consul HTTP API double for tests.")
    parser.add_argument("--agents", required=True,
                        help="comma-separated node names, one agent each")
    parser.add_argument("--leader-delay", type=float, default=0.0, metavar="SECONDS",
                        help="/v1/status/leader answers \"\" for this long after start")
    parser.add_argument("--token", help="turn ACLs on (default deny) with this management token")
    parser.add_argument("--acl-file", metavar="PATH",
                        help='ACLs on: {"tokens": {SECRET: policy}, "anonymous": policy}, a policy '
                             'being "management" or rules as in consul_acl.py')
    timing = Timing()
    parser.add_argument("--failure-detection", type=float, default=timing.failure_detection,
                        metavar="SECONDS", help="how long after an agent dies its serfHealth "
                        "goes critical (gossip's failure detection)")
    parser.add_argument("--member-reconcile", type=float, default=timing.member_reconcile,
                        metavar="SECONDS", help="how long after an agent (re)starts the leader "
                        "registers its node with a passing serfHealth")
    parser.add_argument("--sync-stagger", type=float, default=timing.sync_stagger,
                        metavar="SECONDS", help="a (re)started agent's first full sync comes a "
                        "random time up to this after it starts (ae.go serverUpIntv)")
    parser.add_argument("--instant", action="store_true",
                        help="every change reaches the catalog at once, with or without a leader "
                             "(kinder than Consul; the timing options are then ignored)")
    parser.add_argument("--ready-file", metavar="PATH",
                        help="write the ready document here (atomically) once listening")
    parser.add_argument("--session-ttl-min", type=float, default=10.0, metavar="SECONDS",
                        help="smallest session TTL accepted (Consul's session_ttl_min)")
    parser.add_argument("--data-dir", metavar="TEMPLATE",
                        help="each agent's data directory, {node} standing for its name: "
                             "agents persist their services and checks there as Consul does "
                             "and restore them when revived")
    parser.add_argument("--tls-cert", metavar="PEM",
                        help="agents serve https with this certificate (the control API stays http)")
    parser.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    parser.add_argument("--listen", default=NODE_ADDRESS, metavar="ADDRESS",
                        help="the address the agents listen on (the control API stays on "
                             f"{NODE_ADDRESS}): the chaos tests' bridge, reached from every node's "
                             "network namespace")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    arguments = parser.parse_args(argv)
    if (arguments.tls_cert is None) != (arguments.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    nodes = [n.strip() for n in arguments.agents.split(",") if n.strip()]
    if not nodes:
        parser.error("--agents needs at least one node name")
    for node in nodes:
        if not NODE_NAME.match(node) or node == "add":
            parser.error(f"--agents: invalid node name {node!r}")
    if len(set(nodes)) != len(nodes):
        parser.error("--agents: node names must be unique")
    if arguments.leader_delay < 0:
        parser.error("--leader-delay must not be negative")
    if arguments.session_ttl_min <= 0:
        parser.error("--session-ttl-min must be positive")
    for option in ("failure_detection", "member_reconcile", "sync_stagger"):
        if getattr(arguments, option) < 0:
            parser.error(f"--{option.replace('_', '-')} must not be negative")
    if arguments.data_dir is not None and "{node}" not in arguments.data_dir:
        parser.error("--data-dir needs {node} in it: each agent has its own directory")
    arguments.nodes = nodes
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.instant:
        timing = Timing.instant()
    else:
        timing = Timing(failure_detection=arguments.failure_detection,
                        member_reconcile=arguments.member_reconcile,
                        sync_stagger=arguments.sync_stagger)
    if arguments.acl_file:
        acls = ACLs.from_file(arguments.acl_file, arguments.token)
    else:
        acls = ACLs({arguments.token: "management"} if arguments.token else None)
    state = ConsulState(arguments.nodes, leader_delay=arguments.leader_delay,
                        session_ttl_min=arguments.session_ttl_min,
                        data_dir_template=arguments.data_dir, timing=timing)
    tls = None
    if arguments.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(arguments.tls_cert, arguments.tls_key)
    double = ConsulDouble(state, acls, arguments.ready_file, arguments.verbose, tls, arguments.listen)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=state.run_timekeeper, name="timekeeper", daemon=True).start()
    double.start()
    stop.wait()
    double.shutdown()
    state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
