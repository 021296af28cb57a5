/// The text of `--help` and `help <command>`.
public enum HelpText {
    public static var usage: String {
        let width = Command.allCases.map(\.rawValue.count).max() ?? 0
        let commands = Command.allCases.map { command in
            "  " + command.rawValue + String(repeating: " ", count: width - command.rawValue.count + 2) + command.summary
        }
        return ([
            "redis-manage \(RedisManage.version): runs one Redis + Sentinel node registered in Consul.",
            "ContainerPilot calls it at each point of the node's life.",
            "",
            "Usage: redis-manage <command>",
            "       redis-manage backup --now",
            "       redis-manage backups list",
            "       redis-manage restore --name NAME [--dry-run]",
            "       redis-manage status [--json]",
            "       redis-manage switchover [--to HOST:PORT] [--yes]",
            "       redis-manage help [<command>]",
            "       redis-manage --version",
            "",
            "Commands:",
        ] + commands + [
            "",
            "Settings come from environment variables; see README.md.",
            exitCodes,
        ]).joined(separator: "\n")
    }

    public static func text(for command: Command?) -> String {
        guard let command else { return usage }
        return [
            "Usage: redis-manage \(command.rawValue)" + (command.usageArguments.isEmpty ? "" : " " + command.usageArguments),
            "",
            command.summary.prefix(1).uppercased() + command.summary.dropFirst() + ".",
            "",
            command.details,
            "",
            exitCodes,
        ].joined(separator: "\n")
    }

    private static let exitCodes = "Exit status: \(ExitCode.success.rawValue) success, \(ExitCode.failure.rawValue) the work failed, "
        + "\(ExitCode.usage.rawValue) wrong command line or settings, "
        + "\(ExitCode.refused.rawValue) refused or not confirmed (switchover)."
}
