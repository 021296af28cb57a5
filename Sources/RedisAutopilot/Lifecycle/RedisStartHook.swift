import Foundation

/// startRedis: the redis job's exec. Every start of redis-server comes
/// through here, the first after onStart and each restart ContainerPilot
/// makes when the server exits, so the node decides its role again before
/// the server accepts a connection: a master that was replaced while it was
/// down comes back as a replica, never as a second writable master. Then it
/// becomes redis-server (exec), which ContainerPilot supervises as before.
struct RedisStartHook {
    let chooser: RoleChooser
    let preparation: MasterPreparation
    let confFile: RedisConfFile
    let exec: ServerExec

    /// Returns only when it could not start redis-server.
    func run() throws -> Never {
        let server = try exec.located(.server)
        let outcome: RoleOutcome
        do {
            outcome = try chooser.choose().outcome
        } catch {
            outcome = try fallback(after: error)
        }
        switch outcome {
        case .replica(let master):
            try confFile.write(replicaOf: master)
        case .master:
            try preparation.run()
            try confFile.write(replicaOf: nil)
        }
        let paths = exec.settings.paths
        try exec.replaceThisProcess(
            with: [server, paths.redisConf],
            owning: .forServer(workingDirectory: paths.dataDir, runDirectory: paths.runDir, configFile: paths.redisConf))
    }

    /// Consul or the sentinels cannot be read: a node whose config makes it a
    /// replica may start as that replica (it accepts no writes, and Sentinel
    /// repoints it); one that was master may not start at all.
    private func fallback(after error: Error) throws -> RoleOutcome {
        let plan = StartFallback.decide(configuredMaster: confFile.configuredMaster(), error: "\(error)")
        chooser.log(plan.reason, level: plan.outcome == nil ? .error : .warn)
        guard let outcome = plan.outcome else {
            chooser.clock.sleep(for: ServerExec.retryPause)
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
