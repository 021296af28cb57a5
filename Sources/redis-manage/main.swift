import Foundation
import RedisAutopilot

func finish(printing text: String, to stream: FileHandle, with code: ExitCode) -> Never {
    stream.write(Data((text + "\n").utf8))
    exit(code.rawValue)
}

func makeRunner(for command: Command? = nil) -> CommandRunner {
    let settings: Settings
    do {
        settings = try Settings.load(from: ProcessInfo.processInfo.environment)
    } catch {
        CommandRunner.rejectSettings(error, command: command) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        exit(ExitCode.usage.rawValue)
    }
    return CommandRunner(settings: settings, logger: Logger(settings: settings.log, secrets: settings.secrets))
}

let invocation: Invocation
do {
    invocation = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    finish(printing: "redis-manage: \(error)\n\n\(HelpText.usage)", to: .standardError, with: .usage)
}

switch invocation {
case .help(let command):
    finish(printing: HelpText.text(for: command), to: .standardOutput, with: .success)
case .version:
    finish(printing: "redis-manage \(RedisManage.version)", to: .standardOutput, with: .success)
case .run(let command):
    exit(makeRunner(for: command).run(command).rawValue)
case .operate(let request):
    exit(makeRunner().run(request).rawValue)
case .failover(let change):
    exit(makeRunner().runFailover(change).rawValue)
}
