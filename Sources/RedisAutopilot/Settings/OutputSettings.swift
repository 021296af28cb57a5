/// How operator commands write for people.
struct OutputSettings: Sendable, Equatable {
    /// `NO_COLOR` (no-color.org): any non-empty value turns colour off, even on a terminal.
    var noColor: Bool

    init(noColor: Bool = false) {
        self.noColor = noColor
    }

    static func read(from reader: inout EnvironmentReader) -> OutputSettings {
        OutputSettings(noColor: reader.isSet("NO_COLOR"))
    }
}
