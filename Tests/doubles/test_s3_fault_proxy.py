"""s3_fault_proxy.py: passes requests through untouched, and serves S3's faults when armed.

An in-process upstream records what reaches it, standing for moto (the Swift tests run the
proxy in front of moto itself).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

PROXY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s3_fault_proxy.py")


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Upstream.seen.append({"method": self.command, "target": self.path, "host": self.headers["Host"],
                              "authorization": self.headers.get("Authorization"), "body": body})
        self.send_response(200)
        self.send_header("ETag", '"abc"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[dict[str, int]]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    ready = tmp_path_factory.mktemp("proxy") / "ready.json"
    process = subprocess.Popen([sys.executable, PROXY, "--upstream", f"http://127.0.0.1:{upstream.server_address[1]}",
                                "--ready-file", str(ready)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not ready.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the proxy did not start"
        time.sleep(0.05)
    yield json.loads(ready.read_text())
    process.terminate()
    process.wait(10)
    upstream.shutdown()


def call(port: int, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def arm(proxy: dict[str, int], query: str) -> None:
    assert call(proxy["control_port"], "POST", f"/faults?{query}")[0] == 200


def test_requests_pass_through_with_their_host_and_signature(proxy) -> None:
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=x", "Host": f"127.0.0.1:{proxy['port']}"}
    status, answer, _ = call(proxy["port"], "PUT", "/bucket/key?partNumber=1", b"body", headers)
    assert (status, answer["ETag"]) == (200, '"abc"')
    seen = Upstream.seen[-1]
    assert (seen["target"], seen["host"], seen["body"]) == ("/bucket/key?partNumber=1", headers["Host"], b"body")
    assert seen["authorization"] == headers["Authorization"]


@pytest.mark.parametrize("kind,status", [("InternalError", 500), ("SlowDown", 503),
                                         ("ServiceUnavailable", 503), ("RequestTimeout", 400)])
def test_faults_answer_as_s3_does_without_reaching_it(proxy, kind: str, status: int) -> None:
    arm(proxy, f"kind={kind}&method=PUT&match=/bucket/faulty")
    before = len(Upstream.seen)
    assert call(proxy["port"], "GET", "/bucket/faulty")[0] == 200, "a GET took a fault armed for PUT"
    answered, headers, body = call(proxy["port"], "PUT", "/bucket/faulty", b"x" * 1000)
    assert answered == status
    assert f"<Code>{kind}</Code>" in body.decode() and headers["Content-Type"] == "application/xml"
    assert len(Upstream.seen) == before + 1
    assert call(proxy["port"], "PUT", "/bucket/faulty", b"x")[0] == 200


def test_reset_cuts_the_connection_mid_body(proxy) -> None:
    arm(proxy, "kind=reset&count=2")
    for _ in range(2):
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
            call(proxy["port"], "PUT", "/bucket/reset", b"y" * (4 * 1024 * 1024))
    assert call(proxy["port"], "PUT", "/bucket/reset", b"y")[0] == 200
    served = json.loads(call(proxy["control_port"], "GET", "/requests")[2])
    assert [r.get("fault") for r in served if r["target"] == "/bucket/reset"] == ["reset", "reset", None]


def test_bad_faults_are_refused_and_faults_can_be_cleared(proxy) -> None:
    assert call(proxy["control_port"], "POST", "/faults?kind=Nope")[0] == 400
    arm(proxy, "kind=InternalError&count=9&match=/bucket/cleared")
    assert call(proxy["control_port"], "DELETE", "/faults")[0] == 200
    assert call(proxy["port"], "GET", "/bucket/cleared")[0] == 200
