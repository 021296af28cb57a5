/// Severity of a log event, in increasing order.
enum LogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case debug
    case info
    case warn
    case error

    var description: String {
        switch self {
        case .debug: return "DEBUG"
        case .info: return "INFO"
        case .warn: return "WARN"
        case .error: return "ERROR"
        }
    }

    static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

enum LogFormat: String, Sendable, Equatable {
    /// `time LEVEL message key=value ...`, for people reading `docker logs`.
    case text
    /// One JSON object per line, for log collectors.
    case json
}
