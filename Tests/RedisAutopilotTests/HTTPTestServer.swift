import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

/// A real HTTP server for client tests: Python's http.server on a free
/// 127.0.0.1 port, started per test and killed at teardown.
///
/// Routes: `/echo` (describes the request as JSON; checks a streamed body
/// against `HTTPTestPattern`), `/bytes/N` (N pattern bytes, Content-Length),
/// `/chunked/N[?trailer]` (chunked, with chunk extensions and
/// optionally a trailer), `/close/N`
/// (delimited by close), `/cut/N` (the same, without TLS close_notify), `/status/CODE`, `/hang` (never answers),
/// `/stall/N` (half the body, then silence), `/trickle/PIECES/SECONDS`
/// (one byte per pause), `/reject` (413 before reading the body, then close),
/// `/garbage` (not HTTP). With `tls`, it serves https with the given PEM files.
final class HTTPTestServer {
    let process: Process
    let port: Int
    /// Held open for the server's life: when this process dies, however it
    /// dies, the server reads end-of-file and exits.
    private let lifeline = Pipe()

    let scheme: HTTPBaseURL.Scheme

    init(certificate: String? = nil, key: String? = nil) throws {
        scheme = certificate == nil ? .http : .https
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script] + [certificate, key].compactMap { $0 }
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = lifeline
        try process.run()
        guard let line = Self.readLine(from: output.fileHandleForReading.fileDescriptor, deadline: .after(seconds: 15)),
              let port = Int(line) else {
            process.terminate()
            throw NetError.timeout(endpoint: .tcp(host: "127.0.0.1", port: 0), operation: "test server start")
        }
        self.port = port
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    var baseURL: HTTPBaseURL { HTTPBaseURL(scheme: scheme, host: "127.0.0.1", port: port) }

    private static func readLine(from fd: Int32, deadline: Deadline) -> String? {
        var bytes: [UInt8] = []
        while !deadline.hasPassed {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) >= 0 else { return nil }
            if pfd.revents == 0 { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    static let script = #"""
import http.server, json, os, socket, ssl, sys, threading, time

def exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)

threading.Thread(target=exit_with_parent, daemon=True).start()

PERIOD = bytes(i % 251 for i in range(251))
BLOCK = PERIOD * 263

def pattern(offset, length):
    out = bytearray()
    while length > 0:
        start = offset % 251
        take = min(length, len(BLOCK) - start)
        out += BLOCK[start:start + take]
        offset += take
        length -= take
    return bytes(out)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body_pieces(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b""):
                        pass
                    return
                remaining = size
                while remaining > 0:
                    piece = self.rfile.read(min(remaining, 1 << 20))
                    if not piece:
                        return
                    remaining -= len(piece)
                    yield piece
                self.rfile.read(2)
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining > 0:
                piece = self.rfile.read(min(remaining, 1 << 16))
                if not piece:
                    return
                remaining -= len(piece)
                yield piece

    def send(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        route, args = parts[0], parts[1:]
        if route == "echo":
            length, ok, kept = 0, True, bytearray()
            for piece in self.body_pieces():
                ok = ok and piece == pattern(length, len(piece))
                if len(kept) < 4096:
                    kept += piece[: 4096 - len(kept)]
                length += len(piece)
            answer = {
                "method": self.command,
                "target": self.path,
                "request_line": self.requestline,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_length": length,
                "pattern_ok": ok,
                "body": kept.decode("latin-1") if length <= 4096 else None,
            }
            self.send(200, json.dumps(answer).encode(), [("Content-Type", "application/json")])
        elif route == "bytes":
            self.send_response(200)
            self.send_header("Content-Length", args[0])
            self.end_headers()
            if self.command != "HEAD":
                total, sent = int(args[0]), 0
                while sent < total:
                    take = min(1 << 16, total - sent)
                    self.wfile.write(pattern(sent, take))
                    sent += take
        elif route == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            trailer = self.path.endswith("?trailer")
            if trailer:
                self.send_header("Trailer", "X-Total")
            self.end_headers()
            total, sent, sizes, i = int(args[0]), 0, [1, 1000, 65536, 7, 40000], 0
            while sent < total:
                take = min(sizes[i % len(sizes)], total - sent)
                i += 1
                self.wfile.write(b"%x;piece=%d\r\n" % (take, i) + pattern(sent, take) + b"\r\n")
                sent += take
            self.wfile.write(b"0\r\nX-Total: %d\r\n\r\n" % total if trailer else b"0\r\n\r\n")
        elif route in ("close", "cut"):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + pattern(0, int(args[0])))
            self.wfile.flush()
            # "close" ends a TLS stream with close_notify, "cut" without it,
            # as a truncating attacker or a broken server does.
            if route == "close" and isinstance(self.connection, ssl.SSLSocket):
                self.connection.settimeout(5)
                self.connection.unwrap()
            self.close_connection = True
        elif route == "status":
            code = int(args[0])
            self.send(code, b"status %d body" % code, [("X-Status", str(code))])
        elif route == "hang":
            time.sleep(60)
        elif route == "stall":
            total = int(args[0])
            self.send_response(200)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            self.wfile.write(pattern(0, total // 2))
            self.wfile.flush()
            time.sleep(60)
        elif route == "trickle":
            pieces, pause = int(args[0]), float(args[1])
            self.send_response(200)
            self.send_header("Content-Length", str(pieces))
            self.end_headers()
            for i in range(pieces):
                time.sleep(pause)
                self.wfile.write(pattern(i, 1))
                self.wfile.flush()
        elif route == "reject":
            self.send(413, b"too large", [("Connection", "close")])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.close_connection = True
        elif route == "garbage":
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
            self.close_connection = True
        else:
            self.send(404, b"no route")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 2:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"""#
}

/// The bytes every streamed body in these tests carries: byte i is i mod 251
/// (a prime, so a dropped, repeated or reordered piece shifts the pattern).
enum HTTPTestPattern {
    private static let segment = 65536
    /// Every window of `segment` bytes starts within the first 251.
    private static let block: [UInt8] = (0..<(segment + 251)).map { UInt8($0 % 251) }

    static func bytes(offset: Int, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var done = 0
        while done < count {
            let start = (offset + done) % 251
            let take = min(segment, count - done)
            out += block[start..<start + take]
            done += take
        }
        return out
    }

    static func matches(_ bytes: [UInt8], offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let start = (offset + done) % 251
            let take = min(segment, bytes.count - done)
            let equal = bytes.withUnsafeBytes { received in
                block.withUnsafeBytes { expected in
                    memcmp(received.baseAddress! + done, expected.baseAddress! + start, take) == 0
                }
            }
            if !equal { return false }
            done += take
        }
        return true
    }
}

/// Produces `total` pattern bytes on demand, never holding more than one piece.
final class HTTPPatternSource: ByteSource {
    let total: Int
    private(set) var produced = 0
    private(set) var largestRequest = 0

    init(total: Int) { self.total = total }

    func read(maxBytes: Int) throws -> [UInt8] {
        largestRequest = max(largestRequest, maxBytes)
        let count = min(maxBytes, total - produced)
        defer { produced += count }
        return HTTPTestPattern.bytes(offset: produced, count: count)
    }
}

/// Counts and checks pattern bytes as they arrive, keeping none of them.
final class HTTPPatternSink: ByteSink {
    private(set) var received = 0
    private(set) var writes = 0
    private(set) var largestWrite = 0
    private(set) var matches = true

    func write(_ bytes: [UInt8]) throws {
        if matches && !HTTPTestPattern.matches(bytes, offset: received) { matches = false }
        received += bytes.count
        writes += 1
        largestWrite = max(largestWrite, bytes.count)
    }
}

/// Peak resident memory of this process since the last reset, in bytes.
enum HTTPPeakMemory {
    static func reset() {
        _ = try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static var current: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }
}
