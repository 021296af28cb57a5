import Glibc

/// `redis-manage status [--json]`: observe, assess, print. Exit 0 when
/// healthy, 1 when degraded.
struct StatusCommand {
    let settings: Settings
    let output: (String) -> Void
    let colour: Bool

    /// `colour`: nil asks whether standard output is a terminal (and NO_COLOR unset).
    init(settings: Settings, colour: Bool? = nil, output: @escaping (String) -> Void = { print($0) }) {
        self.settings = settings
        self.output = output
        self.colour = colour ?? (!settings.output.noColor && isatty(STDOUT_FILENO) == 1)
    }

    func run(json: Bool) -> ExitCode {
        let status = StatusAssessment.assess(StatusObserver(reach: ClusterReach(settings: settings)).observe())
        output(json ? StatusJSON.render(status) : StatusTable.render(status, colour: colour))
        return status.healthy ? .success : .failure
    }
}
