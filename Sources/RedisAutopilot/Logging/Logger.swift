import Foundation

/// Writes one line per event, dropping those below the configured level and
/// redacting secrets. A value type of immutable parts, so it can be shared
/// between threads and tasks freely.
public struct Logger: Sendable {
    let level: LogLevel
    private let formatter: LogLineFormatter
    private let redactor: Redactor
    private let sink: any LogSink
    private let clock: @Sendable () -> Date

    public init(
        settings: LogSettings,
        secrets: [String],
        sink: any LogSink = StandardOutputLogSink(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        level = settings.level
        formatter = LogLineFormatter(format: settings.format)
        redactor = Redactor(secrets: secrets)
        self.sink = sink
        self.clock = clock
    }

    func isEnabled(_ level: LogLevel) -> Bool {
        level >= self.level
    }

    /// `fields` keep their order; values are rendered with `description`.
    func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        guard isEnabled(level) else { return }
        let event = LogEvent(
            time: clock(),
            level: level,
            message: redactor.redact(message()),
            fields: fields.map { LogEvent.Field(key: redactor.redact($0.key), value: LogEvent.Value($0.value, redactor: redactor)) }
        )
        sink.write(line: formatter.line(for: event))
    }

    func debug(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.debug, message(), fields)
    }

    func info(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.info, message(), fields)
    }

    func warn(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.warn, message(), fields)
    }

    func error(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        log(.error, message(), fields)
    }
}

/// One event, already redacted.
struct LogEvent {
    struct Field {
        let key: String
        let value: Value
    }

    /// Numbers and booleans stay numbers and booleans in JSON output.
    enum Value {
        case string(String)
        case integer(String)
        case number(String)
        case boolean(Bool)

        init(_ value: any CustomStringConvertible, redactor: Redactor) {
            let text = value.description
            let redacted = redactor.redact(text)
            if redacted != text {
                self = .string(redacted)
            } else if let flag = value as? Bool {
                self = .boolean(flag)
            } else if value is any BinaryInteger {
                self = .integer(text)
            } else if let number = value as? Double, number.isFinite {
                self = .number(text)
            } else {
                self = .string(text)
            }
        }

        var text: String {
            switch self {
            case .string(let text), .integer(let text), .number(let text): return text
            case .boolean(let flag): return flag ? "true" : "false"
            }
        }
    }

    let time: Date
    let level: LogLevel
    let message: String
    let fields: [Field]
}
