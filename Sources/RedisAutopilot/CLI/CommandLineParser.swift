/// An operator's command, beyond the hooks ContainerPilot runs.
public enum OperatorRequest: Sendable, Equatable {
    /// `backup --now`
    case backupNow
    /// `backups list`
    case listBackups
    /// `restore --name NAME [--dry-run]`
    case restore(name: String, dryRun: Bool)
    /// `status [--json]`
    case status(json: Bool)
    /// `switchover [--to HOST:PORT] [--yes]`
    case switchover(target: NodeAddress?, confirmed: Bool)
}

/// What the command line asks for.
public enum Invocation: Sendable, Equatable {
    case run(Command)
    /// An operator's command with arguments.
    case operate(OperatorRequest)
    /// Sentinel running this executable as its client-reconfig-script.
    case failover(SentinelSwitch)
    /// nil: the general usage; otherwise that command's help.
    case help(Command?)
    case version
}

enum UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingCommand
    case unknownCommand(String)
    case unknownOption(String)
    case unexpectedArgument(String, after: String)
    case optionNotAccepted(String, command: String)
    case missingValue(option: String)
    case missingArgument(String, command: String)
    case invalidValue(option: String, reason: String)

    var description: String {
        switch self {
        case .missingCommand: return "no command given"
        case .unknownCommand(let name): return "unknown command \(name.debugDescription)"
        case .unknownOption(let option): return "unknown option \(option.debugDescription)"
        case .unexpectedArgument(let argument, let after): return "unexpected argument \(argument.debugDescription) after \(after)"
        case .optionNotAccepted(let option, let command): return "\(command) does not take the option \(option)"
        case .missingValue(let option): return "\(option) needs a value"
        case .missingArgument(let what, let command): return "\(command) needs \(what)"
        case .invalidValue(let option, let reason): return "\(option): \(reason)"
        }
    }
}

/// Turns the arguments (without the program name) into an `Invocation`.
/// Help and version are recognised wherever they appear, so that
/// `redis-manage onStart --help` explains onStart instead of running it.
public enum CommandLineParser {
    public static func parse(_ arguments: [String]) throws -> Invocation {
        try invocation(of: arguments)
    }

    static func invocation(of arguments: [String]) throws(UsageError) -> Invocation {
        if let change = SentinelSwitch(arguments: arguments) { return .failover(change) }
        var wantsHelp = false
        var wantsVersion = false
        var words: [String] = []
        var options: [String] = []
        var backupName: String?
        var targetText: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help": wantsHelp = true
            case "--version": wantsVersion = true
            case "--now", "--dry-run", "--json", "--yes": options.append(argument)
            case "--to":
                guard let value = remaining.popFirst(), !value.hasPrefix("-") else { throw .missingValue(option: "--to") }
                targetText = value
                options.append(argument)
            case _ where argument.hasPrefix("--to="):
                targetText = String(argument.dropFirst("--to=".count))
                options.append("--to")
            case "--name":
                guard let value = remaining.popFirst(), !value.hasPrefix("-") else { throw .missingValue(option: "--name") }
                backupName = value
                options.append(argument)
            case _ where argument.hasPrefix("--name="):
                backupName = String(argument.dropFirst("--name=".count))
                options.append("--name")
            case _ where argument.hasPrefix("-") && argument != "-": throw .unknownOption(argument)
            default: words.append(argument)
            }
        }

        if words.first == "help" {
            wantsHelp = true
            words.removeFirst()
        } else if words.first == "version" {
            wantsVersion = true
            words.removeFirst()
        }

        if wantsHelp {
            guard let name = words.first else { return .help(nil) }
            if words.count > 1 { throw .unexpectedArgument(words[1], after: name) }
            return .help(try command(named: name))
        }
        if wantsVersion {
            if let extra = words.first { throw .unexpectedArgument(extra, after: "version") }
            return .version
        }
        guard let name = words.first else { throw .missingCommand }
        let command = try command(named: name)
        for option in options where !command.options.contains(option) {
            throw .optionNotAccepted(option, command: name)
        }
        var rest = words.dropFirst()
        switch command {
        case .backups:
            guard let subcommand = rest.popFirst() else { throw .missingArgument("a subcommand: list", command: name) }
            guard subcommand == "list" else { throw .unexpectedArgument(subcommand, after: name) }
            if let extra = rest.first { throw .unexpectedArgument(extra, after: "\(name) list") }
            return .operate(.listBackups)
        case .restore:
            if let extra = rest.first { throw .unexpectedArgument(extra, after: name) }
            guard let backupName, !backupName.isEmpty else { throw .missingArgument("--name NAME", command: name) }
            return .operate(.restore(name: backupName, dryRun: options.contains("--dry-run")))
        case .status:
            if let extra = rest.first { throw .unexpectedArgument(extra, after: name) }
            return .operate(.status(json: options.contains("--json")))
        case .switchover:
            if let extra = rest.first { throw .unexpectedArgument(extra, after: name) }
            var target: NodeAddress?
            if let targetText {
                do {
                    target = try NodeAddress(parsing: targetText)
                } catch {
                    throw .invalidValue(option: "--to", reason: "\(error); give the replica's announced HOST:PORT")
                }
            }
            return .operate(.switchover(target: target, confirmed: options.contains("--yes")))
        case .backup where options.contains("--now"):
            if let extra = rest.first { throw .unexpectedArgument(extra, after: name) }
            return .operate(.backupNow)
        default:
            if let extra = rest.first { throw .unexpectedArgument(extra, after: name) }
            return .run(command)
        }
    }

    private static func command(named name: String) throws(UsageError) -> Command {
        guard let command = Command(rawValue: name) else { throw .unknownCommand(name) }
        return command
    }
}
