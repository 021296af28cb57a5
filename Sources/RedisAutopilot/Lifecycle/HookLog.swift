/// The logger of one hook on one node: every line carries `hook` and `node`.
struct HookLog {
    let logger: Logger
    let hook: String
    let node: NodeAddress
    /// Shared by every copy, so a refusal is logged once per process.
    let refusals: RefusalLog

    init(logger: Logger, hook: String, node: NodeAddress, refusals: RefusalLog = RefusalLog()) {
        self.logger = logger
        self.hook = hook
        self.node = node
        self.refusals = refusals
    }

    func callAsFunction(_ message: String, level: LogLevel = .info) {
        logger.log(level, message, ["hook": hook, "node": node])
    }

    func debug(_ message: String, _ subject: String, _ detail: any CustomStringConvertible, error: any CustomStringConvertible) {
        logger.debug(message, ["hook": hook, subject: detail, "error": error])
    }

    /// What a peer sent that was refused, once per process (see RefusalLog).
    func refuse(_ message: String) {
        refusals.report(message, to: logger)
    }

    func named(_ hook: String) -> HookLog {
        HookLog(logger: logger, hook: hook, node: node, refusals: refusals)
    }
}

/// Logs what a peer sent that was refused (an address that is not one, a
/// master this node cannot vouch for) once per process: an attack or a
/// misconfiguration an operator must see, but not once per poll.
final class RefusalLog {
    private var logged: Set<String> = []

    func report(_ message: String, to logger: Logger) {
        guard logged.insert(message).inserted else { return }
        logger.error(message)
    }
}
