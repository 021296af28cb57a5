import Foundation

/// startRedis: the redis job's exec. Every start of redis-server comes
/// through here, the first after onStart and each restart ContainerPilot
/// makes when the server exits, so the node decides its role again before
/// the server accepts a connection: a master that was replaced while it was
/// down comes back as a replica, never as a second writable master. Then it
/// becomes redis-server (exec), which ContainerPilot supervises as before.
public struct RedisStartHook {
    let node: NodeContext
    let chooser: RoleChooser
    let confFile: RedisConfFile
    /// How long a failed start waits before it exits: ContainerPilot restarts
    /// the job at once, and a start that cannot decide must not spin.
    static let retryPause: Double = 2

    public init(node: NodeContext) {
        self.node = node
        chooser = RoleChooser(node: node, hook: "startRedis", includeOwnSentinel: true)
        confFile = RedisConfFile(node: node)
    }

    /// Returns only when it could not start redis-server.
    public func run() throws -> Never {
        let dialect = RedisConfDialect(version: try RedisServerBinary.version())
        let outcome: RoleOutcome
        do {
            outcome = try chooser.choose()
        } catch {
            outcome = try fallback(after: error)
        }
        switch outcome {
        case .replica(let master):
            try confFile.write(replicaOf: master, dialect: dialect, hook: "startRedis")
        case .master:
            try chooser.prepareMaster()
            try confFile.write(replicaOf: nil, dialect: dialect, hook: "startRedis")
        }
        try RedisServerExec(node: node).replaceThisProcess()
    }

    /// Consul or the sentinels cannot be read: a node whose config makes it a
    /// replica may start as that replica (it accepts no writes, and Sentinel
    /// repoints it); one that was master may not start at all.
    private func fallback(after error: Error) throws -> RoleOutcome {
        let plan = StartFallback.decide(configuredMaster: confFile.configuredMaster(), error: "\(error)")
        node.log("startRedis", plan.reason, level: plan.outcome == nil ? .error : .warn)
        guard let outcome = plan.outcome else {
            pause(seconds: Self.retryPause)
            throw error
        }
        return outcome
    }
}

/// What a restarted redis-server does when its role cannot be decided.
enum StartFallback {
    static func decide(configuredMaster: NodeAddress?, error: String) -> (outcome: RoleOutcome?, reason: String) {
        guard let master = configuredMaster else {
            return (nil, "cannot choose a role (\(error)) and redis.conf does not make this node a replica; "
                + "not starting redis-server, which could accept writes as a second master; ContainerPilot starts this again")
        }
        return (.replica(of: master), "cannot choose a role (\(error)); redis.conf makes this node a replica of \(master), "
            + "which accepts no writes; starting as that replica until Sentinel or the next start says otherwise")
    }
}

/// Turns this process into redis-server on the config just written, so the
/// pid ContainerPilot watches is the server's.
struct RedisServerExec {
    let node: NodeContext
    static let executable = "redis-server"

    func replaceThisProcess() throws -> Never {
        let arguments = [Self.executable, node.settings.paths.redisConf]
        node.log("startRedis", "starting \(arguments.joined(separator: " "))")
        Self.closeOnExec()
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execvp(Self.executable, &argv)
        let code = errno
        throw LifecycleError.serverNotStarted(executable: Self.executable, reason: String(cString: strerror(code)))
    }

    /// Sockets this process opened to Consul and Redis must not live on in
    /// redis-server; standard input, output and error do.
    private static func closeOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for descriptor in entries.compactMap({ Int32($0) }) where descriptor > STDERR_FILENO {
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}
