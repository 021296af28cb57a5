public struct LogSettings: Sendable, Equatable {
    /// `LOG_LEVEL`: events below it are dropped.
    var level: LogLevel
    /// `LOG_FORMAT`
    var format: LogFormat

    init(level: LogLevel = .info, format: LogFormat = .text) {
        self.level = level
        self.format = format
    }

    static func read(from reader: inout EnvironmentReader) -> LogSettings {
        LogSettings(
            level: reader.value("LOG_LEVEL", default: .info) { text throws(InvalidValue) in
                try ValueParsers.choice(text, ["debug": .debug, "info": .info, "warn": .warn, "warning": .warn, "error": .error])
            },
            format: reader.value("LOG_FORMAT", default: .text) { text throws(InvalidValue) in
                try ValueParsers.choice(text, ["text": .text, "json": .json])
            }
        )
    }
}
