/// How a command is named in errors and logs: its verb, plus the subcommand
/// for container commands ("CONFIG SET", "SENTINEL FAILOVER"). Arguments are
/// left out because some are secrets (AUTH, CONFIG SET requirepass).
enum CommandName {
    private static let containers: Set<String> = [
        "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION", "LATENCY",
        "MEMORY", "MODULE", "OBJECT", "SCRIPT", "SENTINEL", "SLOWLOG", "XINFO", "XGROUP",
    ]

    static func of(_ arguments: [[UInt8]]) -> String {
        guard let first = arguments.first else { return "(empty command)" }
        let verb = printable(first)
        guard containers.contains(verb), arguments.count > 1 else { return verb }
        return verb + " " + printable(arguments[1])
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(32), as: UTF8.self).uppercased()
        return String(text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" })
    }
}
