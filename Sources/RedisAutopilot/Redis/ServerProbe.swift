import Foundation
import Glibc

/// Asks a server program what it can do before it runs for real: starts a
/// throwaway instance of it, reachable only on a unix socket in a private
/// directory (port 0, no persistence), on a config rendered by the same
/// writer as the node's own with every optional directive in it, then tries
/// each command redis-manage relies on. A version number says what a release
/// should have; this says what this binary has (a fork, a build without a
/// module, Valkey reporting redis_version 7.2.4 all answer for themselves).
/// A directive the program does not know stops it at startup: its output
/// says which.
struct ServerProbe {
    static let startTimeout = 10.0
    static let commandTimeout = 2.0
    static let pollInterval = 0.02
    /// Only the probe itself uses it, on a socket only this user can open.
    static let password = "redis-manage-probe"

    let program: ServerProgram
    let path: String
    let runDir: String

    /// The commands redis-manage sends and a release may lack: each is
    /// harmless on an empty throwaway instance.
    static func features(of program: ServerProgram) -> [(name: String, command: [String])] {
        switch program {
        case .server:
            return [
                ("CLIENT PAUSE WRITE", ["CLIENT", "PAUSE", "0", "WRITE"]),  // preStop's handover, 6.2+
                ("REPLICAOF", ["REPLICAOF", "NO", "ONE"]),
                ("ACL users", ["ACL", "WHOAMI"]),  // REDIS_USERNAME
                ("BGSAVE SCHEDULE", ["BGSAVE", "SCHEDULE"]),
            ]
        case .sentinel:
            return [
                ("SENTINEL CONFIG", ["SENTINEL", "CONFIG", "GET", "resolve-hostnames"]),  // 6.2+
                ("SENTINEL REPLICAS", ["SENTINEL", "REPLICAS", probeMaster]),
            ]
        }
    }

    static let probeMaster = "probe"

    func run() throws -> ServerReport {
        let directory = try PrivateDirectory.make(in: runDir, prefix: "probe-\(program.rawValue)")
        defer { directory.remove() }
        let socket = directory.path + "/probe.sock"
        let config = directory.path + "/probe.conf"
        try ConfigFile.write(configText(directory: directory.path, socket: socket), to: config)
        let outputFile = directory.path + "/output.log"
        FileManager.default.createFile(atPath: outputFile, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
        defer { try? output.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [config] + (program == .sentinel ? ["--sentinel"] : [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        let failed = { (reason: String) in
            ServerBinaryError.probeFailed(path: path, reason: reason, versionLine: Self.versionLine(of: path),
                                          output: logTail(of: outputFile))
        }
        let connection = try connect(socket: socket, process: process, failure: failed)
        defer { connection.close() }
        var missing: [String] = []
        for feature in Self.features(of: program) {
            if case let .error(message) = try connection.send(feature.command) {
                missing.append("\(feature.name) (\(message))")
            }
        }
        let info = try connection.info(section: "server")
        if program == .server {
            // Ends a save BGSAVE may have started, rather than leave it writing into a removed directory.
            try? RedisClient(connection: connection).shutdown(.noSave, timeout: Self.commandTimeout)
        }
        return Self.report(from: info, missing: missing)
    }

    static func report(from info: RedisInfo, missing: [String]) -> ServerReport {
        let product = info["server_name"] ?? "redis"
        let redisVersion = info["redis_version"] ?? ""
        return ServerReport(product: product, version: info["\(product)_version"] ?? redisVersion,
                            redisVersion: redisVersion, missing: missing)
    }

    /// The node's own config writers, with every optional directive switched
    /// on, then what keeps the instance private and empty: later lines win
    /// (the writers refuse port 0, so the port the file names is replaced).
    private func configText(directory: String, socket: String) throws -> String {
        let nowhere = try NodeAddress(host: "127.0.0.1", port: 1)
        let rendered: String
        switch program {
        case .server:
            rendered = try RedisConfWriter.render(RedisConfInput(
                port: 1, bind: ["127.0.0.1"], dataDirectory: directory, announce: nowhere, replicaOf: nowhere,
                password: Self.password, username: "probe", minReplicasToWrite: 1, minReplicasMaxLagSeconds: 10))
                + "appendonly no\nsave \"\"\n"
        case .sentinel:
            rendered = try SentinelConfWriter.render(SentinelConfInput(
                port: 1, bind: ["127.0.0.1"], workingDirectory: directory, announce: nowhere, masterName: Self.probeMaster,
                master: nowhere, quorum: 2, downAfterMilliseconds: 5000, parallelSyncs: 1, failoverTimeoutMilliseconds: 30000,
                password: Self.password, username: "probe", knownReplicas: [try NodeAddress(host: "127.0.0.1", port: 2)],
                knownSentinels: [KnownSentinel(address: try NodeAddress(host: "127.0.0.1", port: 3), id: String(repeating: "a", count: 40))],
                myID: nil, clientReconfigScript: nil))
        }
        return rendered + "port 0\nunixsocket \(RedisConfSyntax.quote(socket))\nunixsocketperm 700\n"
    }

    private func connect(socket: String, process: Process, failure: (String) -> ServerBinaryError) throws -> RedisConnection {
        let deadline = Deadline.after(seconds: Self.startTimeout)
        let credentials = program == .server ? RedisCredentials(password: Self.password) : nil
        while true {
            guard process.isRunning else {
                throw failure("it exited with status \(process.terminationStatus) before answering")
            }
            if let connection = try? RedisConnection.open(to: .unix(path: socket), credentials: credentials, timeout: Self.commandTimeout) {
                return connection
            }
            if deadline.hasPassed { throw failure("no answer on its unix socket within \(Int(Self.startTimeout))s") }
            pause(seconds: Self.pollInterval)
        }
    }

    /// `Redis server v=6.0.16 sha=...`: only for the message when the
    /// instance cannot be asked itself.
    static func versionLine(of path: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data.prefix(200), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }
}
