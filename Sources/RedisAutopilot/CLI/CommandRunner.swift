import Foundation

/// Runs one hook with validated settings: builds what the hook needs, runs
/// it, and turns its outcome into the documented exit code.
public struct CommandRunner: Sendable {
    let settings: Settings
    let logger: Logger

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(_ command: Command) -> ExitCode {
        do {
            switch command {
            case .preStart:
                // preStart runs once per boot, before anything else: the place to say it once.
                DeploymentWarnings.check(settings).forEach { logger.warn($0, ["hook": command.rawValue]) }
                try PreStartHook(settings: settings, logger: logger).run()
            case .onStart:
                try assembly().onStart(reconfigScript: reconfigScript()).run()
            case .startRedis:
                try assembly().startRedis().run()
            case .startSentinel:
                try SentinelStartHook(exec: assembly().exec("startSentinel")).run()
            case .health:
                return try assembly(within: HookBudget.health).health().run() ? .success : .failure
            case .healthSentinel:
                return try assembly(within: HookBudget.health).healthSentinel().run() ? .success : .failure
            case .preStop:
                try assembly(within: HookBudget.preStop).preStop().run()
            case .awaitPreStop:
                try assembly(within: HookBudget.awaitPreStop).awaitPreStop().run()
            case .backup:
                let parts = try assembly(within: settings.backup.checkInterval - .seconds(10))
                _ = try parts.backup(store: try makeBackupStore(settings: settings.backup), forced: false).run()
            case .backups:
                return run(.listBackups)
            case .status:
                return run(.status(json: false))
            case .switchover:
                return run(.switchover(target: nil, confirmed: false))
            case .restore:
                logger.error("restore needs --name NAME; see redis-manage help restore", ["hook": command.rawValue])
                return .usage
            }
            return .success
        } catch {
            logger.error("\(command.rawValue) failed: \(error)", ["hook": command.rawValue])
            if command == .preStart || command == .onStart { endContainer(after: command) }
            return .failure
        }
    }

    /// Invalid settings stop a command before a logger exists; for preStart
    /// and onStart they end the container too. `report` prints the settings
    /// error (and what follows) before ContainerPilot is signalled, since its
    /// stop sequence terminates this very process.
    public static func rejectSettings(_ error: Error, command: Command?, report: (String) -> Void) {
        let text = "redis-manage: \(error)"
        guard let command, command == .preStart || command == .onStart, let pid = ContainerPilotParent.pid() else {
            report(text)
            return
        }
        report(text + "\nredis-manage: \(command.rawValue) cannot run: ending the container (asking ContainerPilot, pid \(pid), to stop)")
        _ = ContainerPilotParent.requestShutdown(of: pid)
    }

    /// Without Redis the container is of no use, and ContainerPilot would keep
    /// it up for its other jobs: stop it, so Docker's restart policy starts it
    /// again from the beginning. The line is logged first: ContainerPilot's
    /// stop sequence terminates this process.
    private func endContainer(after command: Command) {
        guard let pid = ContainerPilotParent.pid() else {
            logger.debug("not run by ContainerPilot: no container to end", ["hook": command.rawValue])
            return
        }
        logger.error("ending the container: asking ContainerPilot (pid \(pid)) to stop; it exits once its jobs are done, "
            + "and Docker's restart policy (restart: always or unless-stopped) starts the container again", ["hook": command.rawValue])
        if !ContainerPilotParent.requestShutdown(of: pid) {
            logger.error("could not signal ContainerPilot (pid \(pid)) to end the container", ["hook": command.rawValue])
        }
    }

    /// An operator's command; its results are written to `output`.
    public func run(_ request: OperatorRequest, output: @escaping (String) -> Void = { print($0) }) -> ExitCode {
        let name: String
        switch request {
        case .backupNow: name = "backup --now"
        case .listBackups: name = "backups list"
        case .restore: name = "restore"
        case let .status(json):
            return StatusCommand(settings: settings, output: output).run(json: json)
        case let .switchover(target, confirmed):
            return SwitchoverCommand(settings: settings, output: output).run(target: target, confirmed: confirmed)
        }
        do {
            let commands = try assembly().operatorCommands(output: output)
            switch request {
            case .backupNow: try commands.backupNow()
            case .listBackups: try commands.listBackups()
            case let .restore(backup, dryRun): try commands.restore(name: backup, dryRun: dryRun)
            case .status, .switchover: return .usage
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
            try assembly().failover(change).run()
            return .success
        } catch {
            logger.error("failover re-sync failed: \(error)", ["hook": "failover"])
            return .failure
        }
    }

    private func assembly(within budget: Duration? = nil) throws -> HookAssembly {
        try HookAssembly(settings: settings, logger: logger, within: budget)
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
