import Foundation

/// Turns this process into redis-server or redis-sentinel, so the pid
/// ContainerPilot watches is the server's (startRedis, startSentinel).
struct ServerExec {
    let settings: Settings
    let log: HookLog
    /// How long a start that cannot find or use its program waits before it
    /// exits: ContainerPilot restarts the job at once, and must not spin.
    static let retryPause: Duration = .seconds(2)

    /// The checked program (ServerBinaryCheck), or the error after the pause.
    func located(_ program: ServerProgram) throws -> String {
        do {
            return try ServerBinaryCheck(settings: settings, log: log).supported(program)
        } catch {
            MonotonicClock().sleep(for: Self.retryPause)
            throw error
        }
    }

    /// `paths` are what the server writes: they go to REDIS_RUN_AS with the
    /// server when redis-manage runs as root.
    func replaceThisProcess(with arguments: [String], owning paths: ServerPaths) throws -> Never {
        let plan = ServerUserPlan.decide(currentUID: getuid(), runAs: settings.redis.runAs)
        switch plan {
        case .keep(let reason):
            log("starting \(arguments.joined(separator: " ")); \(reason)")
        case .become(let name):
            let user = try ServerUser.lookUp(name)
            try user.handOver(paths)
            log("starting \(arguments.joined(separator: " ")) as \(name) (uid \(user.uid)), which owns "
                + (paths.trees + paths.directories + paths.files).joined(separator: ", "))
            try user.become()
        }
        Self.closeOnExec()
        // CONFIG REWRITE (Sentinel asks for one on every failover, and rewrites
        // its own file) recreates the file 0644 & ~umask, and it holds
        // masterauth or auth-pass.
        umask(0o077)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv(arguments[0], &argv)
        let code = errno
        throw LifecycleError.serverNotStarted(executable: arguments[0], reason: String(cString: strerror(code)))
    }

    /// Sockets this process opened to Consul and Redis must not live on in
    /// the server; standard input, output and error do.
    private static func closeOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for descriptor in entries.compactMap({ Int32($0) }) where descriptor > STDERR_FILENO {
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}

/// startSentinel: the redis-sentinel job's exec. ContainerPilot's config
/// template cannot look a program up on PATH, so this finds the Sentinel
/// program (REDIS_SENTINEL_BIN: redis-sentinel or valkey-sentinel), checks it
/// as onStart did, and becomes it on SENTINEL_CONF. `--sentinel` makes any
/// name of the program run as Sentinel, a server binary included.
struct SentinelStartHook {
    let exec: ServerExec

    func run() throws -> Never {
        let sentinel = try exec.located(.sentinel)
        let paths = exec.settings.paths
        try exec.replaceThisProcess(
            with: [sentinel, paths.sentinelConf, "--sentinel"],
            owning: .forServer(workingDirectory: paths.runDir, runDirectory: paths.runDir, configFile: paths.sentinelConf))
    }
}
