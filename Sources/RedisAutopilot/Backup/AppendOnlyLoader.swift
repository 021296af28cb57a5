import Foundation
import Glibc

/// Turns `dump.rdb` in the data directory into the append-only dataset the
/// node's Redis (appendonly yes) loads: a temporary redis-server reachable
/// only on a private unix socket loads the RDB, rewrites it as an AOF, and
/// shuts down cleanly.
struct AppendOnlyLoader {
    static let pollInterval = 0.1

    let dataDir: String
    let runDir: String
    let timeoutSeconds: Double
    let heartbeat: Heartbeat?
    let log: (String) -> Void

    func load() throws {
        let socketDirectory = try privateSocketDirectory()
        defer { try? FileManager.default.removeItem(atPath: socketDirectory) }
        let socket = socketDirectory + "/redis.sock"
        let logFile = runDir + "/restore-redis-server.log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
            "--dir", dataDir, "--dbfilename", LocalData.rdbFile, "--appendonly", "no", "--save", "",
            "--daemonize", "no", "--logfile", logFile,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        log("temporary redis-server (pid \(process.processIdentifier)) loads \(dataDir)/\(LocalData.rdbFile) on \(socket)")
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        let deadline = Deadline.after(seconds: timeoutSeconds)
        let failure = { (reason: String) in BackupError.loadFailed(reason: reason, logTail: Self.tail(of: logFile)) }

        let client = try wait(deadline, failure, "redis-server to answer on its socket") { () -> RedisClient? in
            guard process.isRunning else { throw failure("redis-server exited with status \(process.terminationStatus)") }
            return try? RedisClient.connect(to: .unix(path: socket), timeout: 5)
        }
        defer { client.close() }
        try wait(deadline, failure, "the RDB to load") { () -> Bool? in
            guard process.isRunning else { throw failure("redis-server exited with status \(process.terminationStatus) while loading") }
            return try client.info(section: "persistence").loading == false ? true : nil
        }
        try client.configSet("appendonly", "yes")
        // CONFIG SET starts (or schedules) the rewrite before it answers, so
        // "nothing running, nothing scheduled" afterwards means it finished.
        try wait(deadline, failure, "the AOF rewrite to finish") { () -> Bool? in
            let info = try client.info(section: "persistence")
            guard info.aofRewriteInProgress == false, info.aofRewriteScheduled == false else { return nil }
            guard info.aofLastBgrewriteStatus == "ok" else {
                throw failure("aof_last_bgrewrite_status:\(info.aofLastBgrewriteStatus ?? "missing")")
            }
            return true
        }
        try client.shutdown(timeout: timeoutSeconds)
        try wait(deadline, failure, "redis-server to exit after SHUTDOWN") { process.isRunning ? nil : true }
        guard process.terminationStatus == 0 else { throw failure("redis-server exited with status \(process.terminationStatus)") }
        guard LocalData.hasAppendOnlyFile(in: dataDir) else {
            throw failure("no append-only file in \(dataDir) after the rewrite")
        }
        log("the restored dataset is now an append-only file in \(dataDir)")
    }

    @discardableResult
    private func wait<T>(_ deadline: Deadline, _ failure: (String) -> BackupError, _ what: String, _ probe: () throws -> T?) throws -> T {
        while true {
            if let value = try probe() { return value }
            if deadline.hasPassed { throw failure("timed out after \(Int(timeoutSeconds))s waiting for \(what)") }
            try heartbeat?.beat()
            pause(seconds: Self.pollInterval)
        }
    }

    /// A new 0700 directory for the socket: in the run directory when the
    /// path fits a unix socket address (108 bytes), else under /tmp.
    private func privateSocketDirectory() throws -> String {
        let base = runDir.utf8.count + 40 < 104 ? runDir : "/tmp"
        var template = Array((base + "/restore-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else {
            throw FileStreamError.createDirectory(path: base + "/restore-XXXXXX", message: errnoMessage())
        }
        return made
    }

    static func tail(of path: String, lines: Int = 5) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }
}
