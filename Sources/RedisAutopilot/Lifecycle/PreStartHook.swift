import Foundation

/// preStart: prepares the Consul agent before it starts: hands it its local
/// configuration, and clears the check statuses it would restore from before
/// this start (see PreStartDecision). It runs before the agent, so it needs
/// only settings and a logger.
struct PreStartHook {
    let settings: Settings
    let logger: Logger
    let clock: @Sendable () -> Date

    init(settings: Settings, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.logger = logger
        self.clock = clock
    }

    func run() throws {
        try writeLocalConfig()
        clearCheckStatusesFromBeforeThisStart()
    }

    private func writeLocalConfig() throws {
        let consul = settings.consul
        guard let config = consul.localConfig else {
            logger.info("CONSUL_LOCAL_CONFIG not set; leaving the agent's configuration as it is", ["hook": "preStart"])
            return
        }
        try ConfigFile.write(config + "\n", to: consul.localConfigFile)
        logger.info("wrote CONSUL_LOCAL_CONFIG to \(consul.localConfigFile)", ["hook": "preStart"])
    }

    private func clearCheckStatusesFromBeforeThisStart() {
        let directory = ConsulAgentDataDirectory(path: settings.consul.agentDataDir)
        let plan = PreStartDecision.decide(
            directory.read(), directory: directory.path, now: Int64(clock().timeIntervalSince1970.rounded(.down)))
        logger.info(plan.reason, ["hook": "preStart"])
        for status in plan.remove {
            do {
                try directory.remove(status)
            } catch {
                // Not a reason to keep the node down: onStart deregisters this
                // node's role services before redis-server starts.
                logger.error("\(error); the agent will restore \(status.checkID) as \(status.status) until onStart "
                    + "deregisters it or its TTL runs out", ["hook": "preStart"])
            }
        }
    }
}
