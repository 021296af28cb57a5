import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

/// A redis-server or redis-sentinel run by a test, on a free 127.0.0.1 port,
/// in its own temporary directory (config, data, output log). `start` returns
/// once the process answers PING; `stop` kills it and removes the directory.
/// Tests start these through `XCTestCase.startRedisServer` and
/// `startRedisSentinel`, which stop them when the test ends, failed or not.
final class RedisProcess {
    enum Kind: String {
        case server = "redis-server"
        case sentinel = "redis-sentinel"
    }

    enum Failure: Error, CustomStringConvertible {
        case exited(kind: Kind, status: Int32, output: String)
        case notReady(kind: Kind, port: Int, output: String)

        var description: String {
            switch self {
            case let .exited(kind, status, output):
                return "\(kind.rawValue) exited with status \(status) before answering PING:\n\(output)"
            case let .notReady(kind, port, output):
                return "\(kind.rawValue) on port \(port) did not answer PING in time:\n\(output)"
            }
        }
    }

    let kind: Kind
    let port: Int
    let directory: String
    let configPath: String
    /// Set when the server was started with a unix socket.
    let unixSocketPath: String?
    /// The `requirepass` of the config, for the readiness probe.
    private let password: String?
    private let outputPath: String
    private let process: Process
    private var stopped = false

    var endpoint: SocketEndpoint { .tcp(host: "127.0.0.1", port: port) }
    var address: NodeAddress { try! NodeAddress(host: "127.0.0.1", port: port) }
    var isRunning: Bool { process.isRunning }

    /// What the process printed: its log, and any startup error.
    var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    private init(kind: Kind, port: Int, directory: String, unixSocketPath: String?, config: [String]) throws {
        self.kind = kind
        self.port = port
        self.directory = directory
        self.unixSocketPath = unixSocketPath
        configPath = directory + "/\(kind.rawValue).conf"
        outputPath = directory + "/output.log"
        password = config.last { $0.hasPrefix("requirepass ") }.map { String($0.dropFirst("requirepass ".count)) }
        try (config.joined(separator: "\n") + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)

        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.executable(kind))
        // As startSentinel runs it: any name of the program runs as Sentinel.
        process.arguments = [configPath] + (kind == .sentinel ? ["--sentinel"] : [])
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let log = FileHandle(forWritingAtPath: outputPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        stop()
    }

    /// A redis-server with no persistence, bound to 127.0.0.1; `config` lines
    /// are appended to its redis.conf.
    static func startServer(config: [String] = [], unixSocket: Bool = false, readyTimeout: Double = 10) throws -> RedisProcess {
        try start(kind: .server, readyTimeout: readyTimeout) { port, directory in
            // A replica syncs at once instead of after the default 5 s batching delay.
            var lines = [
                "port \(port)", "bind 127.0.0.1", "save \"\"", "appendonly no", "dir \(directory)", "daemonize no",
                "repl-diskless-sync-delay 0",
            ]
            if unixSocket {
                lines += ["unixsocket \(directory)/redis.sock", "unixsocketperm 700"]
            }
            return (lines + config, unixSocket ? directory + "/redis.sock" : nil)
        }
    }

    /// A redis-sentinel monitoring `master` under `masterName`.
    static func startSentinel(monitoring master: NodeAddress, masterName: String = "mymaster", quorum: Int = 1,
                              downAfterMilliseconds: Int = 1000, failoverTimeoutMilliseconds: Int = 10000,
                              config: [String] = [], readyTimeout: Double = 10) throws -> RedisProcess {
        try start(kind: .sentinel, readyTimeout: readyTimeout) { port, directory in
            let lines = [
                "port \(port)", "bind 127.0.0.1", "dir \(directory)", "daemonize no",
                "sentinel monitor \(masterName) \(master.host) \(master.port) \(quorum)",
                "sentinel down-after-milliseconds \(masterName) \(downAfterMilliseconds)",
                "sentinel failover-timeout \(masterName) \(failoverTimeoutMilliseconds)",
            ]
            return (lines + config, nil)
        }
    }

    /// Picks a port, starts, waits for PING. The port is free when picked but
    /// another process may take it before Redis binds: then Redis exits at
    /// once, and a new port is tried.
    private static func start(kind: Kind, readyTimeout: Double,
                              config: (Int, String) -> ([String], String?)) throws -> RedisProcess {
        var lastFailure: Error?
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let directory = try makeTemporaryDirectory()
            let (lines, socketPath) = config(port, directory)
            let instance = try RedisProcess(kind: kind, port: port, directory: directory, unixSocketPath: socketPath, config: lines)
            do {
                try instance.waitUntilReady(timeout: readyTimeout)
                return instance
            } catch let failure as Failure {
                instance.stop()
                guard case .exited = failure else { throw failure }
                lastFailure = failure
            }
        }
        throw lastFailure ?? Failure.notReady(kind: kind, port: 0, output: "")
    }

    /// Polls until this very process answers: INFO's process_id must be our
    /// child's, because when two tests race for a port the answer could come
    /// from someone else's Redis while ours is still failing to bind. A
    /// server whose password the helper cannot know answers NOAUTH; that
    /// counts once our process is still alive.
    private func waitUntilReady(timeout: Double) throws {
        let deadline = Deadline.after(seconds: timeout)
        while !deadline.hasPassed {
            guard process.isRunning else {
                throw Failure.exited(kind: kind, status: process.terminationStatus, output: output)
            }
            let attempt = Deadline.after(seconds: min(1, max(0.05, deadline.remainingSeconds)))
            switch try? probe(deadline: attempt) {
            case let .process(id) where id == process.processIdentifier:
                return
            case .locked where process.isRunning:
                return
            default:
                usleep(20_000)
            }
        }
        throw Failure.notReady(kind: kind, port: port, output: output)
    }

    private enum Probe {
        case process(Int32)
        case locked
        case other
    }

    private func probe(deadline: Deadline) throws -> Probe {
        let connection = try SocketConnection.connect(to: endpoint, deadline: deadline)
        defer { connection.close() }
        var commands: [[String]] = [["INFO", "server"]]
        if let password { commands.insert(["AUTH", password], at: 0) }
        try connection.write(commands.flatMap(RESPEncoder.command), deadline: deadline)
        var decoder = RESPDecoder()
        var replies: [RESPValue] = []
        while replies.count < commands.count {
            if let reply = try decoder.next() {
                replies.append(reply)
                continue
            }
            let bytes = try connection.read(deadline: deadline)
            if bytes.isEmpty { return .other }
            decoder.feed(bytes)
        }
        switch replies[replies.count - 1] {
        case let .error(message) where message.hasPrefix("NOAUTH"):
            return .locked
        case let reply:
            guard let text = reply.text, let id = try RedisInfo(parsing: text)["process_id"].flatMap({ Int32($0) }) else {
                return .other
            }
            return .process(id)
        }
    }

    /// Sends a signal, for tests that need a crash (SIGKILL) or a pause (SIGSTOP).
    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits until the process has exited; false if it is still running at the deadline.
    func waitForExit(timeout: Double) -> Bool {
        let deadline = Deadline.after(seconds: timeout)
        while process.isRunning {
            if deadline.hasPassed { return false }
            usleep(10_000)
        }
        return true
    }

    /// Kills the process, reaps it and removes its directory. Safe to call twice.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The program a node would run: REDIS_SERVER_BIN / REDIS_SENTINEL_BIN
    /// from the tests' environment, else redis-server (valkey-server) on PATH.
    static func executable(_ kind: Kind) throws -> String {
        var reader = EnvironmentReader(ProcessInfo.processInfo.environment)
        let binaries = ServerBinarySettings.read(from: &reader)
        return try ServerBinaryLocator(settings: binaries).locate(kind == .server ? .server : .sentinel)
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/redis-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return String(cString: made)
    }

    /// A port the kernel just handed out for 127.0.0.1 and nobody holds.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension XCTestCase {
    /// Starts a redis-server that is killed when the test ends, however it ends.
    func startRedisServer(config: [String] = [], unixSocket: Bool = false) throws -> RedisProcess {
        let server = try RedisProcess.startServer(config: config, unixSocket: unixSocket)
        addTeardownBlock { server.stop() }
        return server
    }

    /// Starts a redis-sentinel that is killed when the test ends, however it ends.
    func startRedisSentinel(monitoring master: NodeAddress, masterName: String = "mymaster", quorum: Int = 1,
                            downAfterMilliseconds: Int = 1000, failoverTimeoutMilliseconds: Int = 10000,
                            config: [String] = []) throws -> RedisProcess {
        let sentinel = try RedisProcess.startSentinel(monitoring: master, masterName: masterName, quorum: quorum,
                                                      downAfterMilliseconds: downAfterMilliseconds,
                                                      failoverTimeoutMilliseconds: failoverTimeoutMilliseconds, config: config)
        addTeardownBlock { sentinel.stop() }
        return sentinel
    }

    /// Polls `condition` until it holds or `timeout` passes; a thrown error
    /// counts as "not yet". Returns whether it held.
    func pollUntil(timeout: Double, interval: Double = 0.05, _ condition: () throws -> Bool) -> Bool {
        let deadline = Deadline.after(seconds: timeout)
        while true {
            if (try? condition()) == true { return true }
            if deadline.hasPassed { return false }
            usleep(UInt32(interval * 1_000_000))
        }
    }
}
