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
                try OnStartHook(node: try node(), reconfigScript: reconfigScript()).run()
            case .health:
                return try HealthHook(node: try node()).run() ? .success : .failure
            case .healthSentinel:
                try SentinelHealthHook(node: try node()).run()
            case .preStop:
                try PreStopHook(node: try node()).run()
            case .awaitPreStop:
                AwaitPreStopHook(node: try node()).run()
            case .backup:
                let node = try node()
                _ = try BackupTask(node: node, store: try makeBackupStore(settings: settings.backup), forced: false).run()
            case .backups:
                return run(.listBackups)
            case .restore:
                logger.error("restore needs --name NAME; see redis-manage help restore", ["hook": command.rawValue])
                return .usage
            }
            return .success
        } catch {
            logger.error("\(command.rawValue) failed: \(error)", ["hook": command.rawValue])
            return .failure
        }
    }

    /// An operator's command; its results are written to `output`.
    public func run(_ request: OperatorRequest, output: @escaping (String) -> Void = { print($0) }) -> ExitCode {
        let name: String
        switch request {
        case .backupNow: name = "backup --now"
        case .listBackups: name = "backups list"
        case .restore: name = "restore"
        }
        do {
            let commands = OperatorCommands(node: try node(), output: output)
            switch request {
            case .backupNow: try commands.backupNow()
            case .listBackups: try commands.listBackups()
            case let .restore(backup, dryRun): try commands.restore(name: backup, dryRun: dryRun)
            }
            return .success
        } catch {
            logger.error("\(name) failed: \(error)", ["hook": name])
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
    /// executable, wherever it was installed. Sentinel writes the path back
    /// to sentinel.conf unquoted, so one with a space or a quote would stop
    /// it from starting again: that one is left out, with a warning, and
    /// health re-syncs the registration after a failover instead.
    func reconfigScript() -> String? {
        let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        guard let path = Self.executablePath(link: link, argument0: CommandLine.arguments.first) else { return nil }
        guard path.hasPrefix("/"), RedisConfSyntax.isBareWord(path) else {
            logger.warn("this executable's path \"\(HTTPParseError.quote(path.utf8))\" has a space, a quote or a byte Sentinel "
                + "cannot write back unquoted; sentinel.conf gets no client-reconfig-script, so registrations follow a failover "
                + "at the next health run instead of at once. Install redis-manage at a plain path to restore it.", ["hook": "onStart"])
            return nil
        }
        return path
    }

    /// `/proc/self/exe` reads `<path> (deleted)` once the file was replaced
    /// (an upgrade in place): the path itself then names the new executable.
    static func executablePath(link: String?, argument0: String?) -> String? {
        let deleted = " (deleted)"
        guard let link else { return argument0 }
        return link.hasSuffix(deleted) ? String(link.dropLast(deleted.count)) : link
    }
}
