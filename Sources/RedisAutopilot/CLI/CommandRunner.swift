import Foundation

/// Runs one hook with validated settings: builds what the hook needs, runs
/// it, and turns its outcome into the documented exit code.
public struct CommandRunner: Sendable {
    public let settings: Settings
    public let logger: Logger

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(_ command: Command) -> ExitCode {
        do {
            switch command {
            case .preStart:
                try PreStartHook(settings: settings, logger: logger).run()
            case .onStart:
                try OnStartHook(node: try node(), reconfigScript: Self.ownExecutable()).run()
            case .health:
                return try HealthHook(node: try node()).run() ? .success : .failure
            case .healthSentinel:
                try SentinelHealthHook(node: try node()).run()
            case .preStop:
                try PreStopHook(node: try node()).run()
            case .awaitPreStop:
                AwaitPreStopHook(node: try node()).run()
            case .backup:
                logger.error("backup is not implemented yet", ["hook": command.rawValue])
                return .failure
            }
            return .success
        } catch {
            logger.error("\(command.rawValue) failed: \(error)", ["hook": command.rawValue])
            return .failure
        }
    }

    /// Sentinel retries its client-reconfig-script when it exits 1, and gives
    /// up on 2 or more: a Consul hiccup deserves the retry.
    public func runFailover(_ change: SentinelSwitch) -> ExitCode {
        do {
            try FailoverHook(node: try node(), change: change).run()
            return .success
        } catch {
            logger.error("failover re-sync failed: \(error)", ["hook": "failover"])
            return .failure
        }
    }

    private func node() throws -> NodeContext {
        try NodeContext.make(settings: settings, logger: logger)
    }

    /// The path Sentinel should run as its client-reconfig-script: this
    /// executable, wherever it was installed.
    static func ownExecutable() -> String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first
    }
}
