/// What the command line asks for.
public enum Invocation: Sendable, Equatable {
    case run(Command)
    /// Sentinel running this executable as its client-reconfig-script.
    case failover(SentinelSwitch)
    /// nil: the general usage; otherwise that command's help.
    case help(Command?)
    case version
}

public enum UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingCommand
    case unknownCommand(String)
    case unknownOption(String)
    case unexpectedArgument(String, after: String)

    public var description: String {
        switch self {
        case .missingCommand: return "no command given"
        case .unknownCommand(let name): return "unknown command \(name.debugDescription)"
        case .unknownOption(let option): return "unknown option \(option.debugDescription)"
        case .unexpectedArgument(let argument, let after): return "unexpected argument \(argument.debugDescription) after \(after)"
        }
    }
}

/// Turns the arguments (without the program name) into an `Invocation`.
/// Help and version are recognised wherever they appear, so that
/// `redis-manage onStart --help` explains onStart instead of running it.
public enum CommandLineParser {
    public static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        if let change = SentinelSwitch(arguments: arguments) { return .failover(change) }
        var wantsHelp = false
        var wantsVersion = false
        var words: [String] = []
        for argument in arguments {
            switch argument {
            case "-h", "--help": wantsHelp = true
            case "--version": wantsVersion = true
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
        if words.count > 1 { throw .unexpectedArgument(words[1], after: name) }
        return .run(command)
    }

    private static func command(named name: String) throws(UsageError) -> Command {
        guard let command = Command(rawValue: name) else { throw .unknownCommand(name) }
        return command
    }
}
