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

    public init(node: NodeContext) {
        self.node = node
        chooser = RoleChooser(node: node, hook: "startRedis", includeOwnSentinel: true)
        confFile = RedisConfFile(node: node)
    }

    /// Returns only when it could not start redis-server.
    public func run() throws -> Never {
        let server = try ServerExec.located(.server, node: node, hook: "startRedis")
        let outcome: RoleOutcome
        do {
            outcome = try chooser.choose()
        } catch {
            outcome = try fallback(after: error)
        }
        switch outcome {
        case .replica(let master):
            try confFile.write(replicaOf: master, hook: "startRedis")
        case .master:
            try chooser.prepareMaster()
            try confFile.write(replicaOf: nil, hook: "startRedis")
        }
        let paths = node.settings.paths
        try ServerExec(node: node, hook: "startRedis").replaceThisProcess(
            with: [server, paths.redisConf],
            owning: .forServer(workingDirectory: paths.dataDir, runDirectory: paths.runDir, configFile: paths.redisConf))
    }

    /// Consul or the sentinels cannot be read: a node whose config makes it a
    /// replica may start as that replica (it accepts no writes, and Sentinel
    /// repoints it); one that was master may not start at all.
    private func fallback(after error: Error) throws -> RoleOutcome {
        let plan = StartFallback.decide(configuredMaster: confFile.configuredMaster(), error: "\(error)")
        node.log("startRedis", plan.reason, level: plan.outcome == nil ? .error : .warn)
        guard let outcome = plan.outcome else {
            pause(seconds: ServerExec.retryPause)
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
