/// Runs one hook with validated settings. The hooks arrive with the
/// lifecycle work; until then each says so and fails, so that a container
/// started too early does not pass for healthy.
public struct CommandRunner: Sendable {
    public let settings: Settings
    public let logger: Logger

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(_ command: Command) -> ExitCode {
        logger.error("command not implemented yet", ["command": command.rawValue])
        return .failure
    }
}
