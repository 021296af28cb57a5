import Foundation
import Glibc

/// Turns `dump.rdb` in the data directory into the append-only dataset the
/// node's Redis (appendonly yes) loads: a temporary instance of the node's
/// own server program (REDIS_SERVER_BIN), reachable only on a private unix
/// socket, loads the RDB, rewrites it as an AOF, and shuts down cleanly.
struct AppendOnlyLoader {
    static let pollInterval = 0.1

    let serverPath: String
    let dataDir: String
    let runDir: String
    let timeoutSeconds: Double
    let heartbeat: Heartbeat?
    let log: (String) -> Void

    func load() throws {
        let socketDirectory = try PrivateDirectory.make(in: runDir, prefix: "restore")
        defer { socketDirectory.remove() }
        let socket = socketDirectory.path + "/redis.sock"
        let logFile = runDir + "/restore-redis-server.log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: serverPath)
        process.arguments = [
            "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700",
            "--dir", dataDir, "--dbfilename", LocalData.rdbFile, "--appendonly", "no", "--save", "",
            "--daemonize", "no", "--logfile", logFile,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        log("temporary \(serverPath) (pid \(process.processIdentifier)) loads \(dataDir)/\(LocalData.rdbFile) on \(socket)")
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        let deadline = Deadline.after(seconds: timeoutSeconds)
        let failure = { (reason: String) in BackupError.loadFailed(reason: reason, logTail: logTail(of: logFile)) }

        let client = try wait(deadline, failure, "redis-server to answer on its socket") { () -> RedisClient? in
            guard process.isRunning else { throw failure("redis-server exited with status \(process.terminationStatus)") }
            return try? RedisClient.connect(to: .unix(path: socket), timeout: 5)
        }
        defer { client.close() }
        try wait(deadline, failure, "the RDB to load") { () -> Bool? in
            guard process.isRunning else { throw failure("redis-server exited with status \(process.terminationStatus) while loading") }
            return try client.info(section: "persistence").loading == false ? true : nil
        }
        // Where the rewrite leaves the AOF, as this server lays it out.
        let aofFile = LocalData.appendOnlyFile(in: dataDir, directoryName: try client.configGet("appenddirname")["appenddirname"],
                                               fileName: try client.configGet("appendfilename")["appendfilename"] ?? LocalData.aofFile)
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
        guard FileManager.default.fileExists(atPath: aofFile) else {
            throw failure("no \(aofFile) after the rewrite")
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
}
