import Foundation

/// preStart: hands the Consul agent its local configuration before it starts.
/// It runs before the agent, so it needs only settings and a logger.
public struct PreStartHook {
    let settings: Settings
    let logger: Logger

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run() throws {
        let consul = settings.consul
        guard let config = consul.localConfig else {
            logger.info("CONSUL_LOCAL_CONFIG not set; leaving the agent's configuration as it is", ["hook": "preStart"])
            return
        }
        try ConfigFile.write(config + "\n", to: consul.localConfigFile)
        logger.info("wrote CONSUL_LOCAL_CONFIG to \(consul.localConfigFile)", ["hook": "preStart"])
    }
}
