/// One variable that could not be accepted.
public struct SettingsProblem: Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    /// The offending value as given, or nil when it is a secret or absent.
    public let value: String?
    public let expected: String

    public init(variable: String, value: String?, expected: String) {
        self.variable = variable
        self.value = value
        self.expected = expected
    }

    public var description: String {
        guard let value else { return "\(variable): \(expected)" }
        return "\(variable)=\(SettingsProblem.quoted(value)): \(expected)"
    }

    /// Escaped so that a value with newlines or control characters stays on
    /// one line of the report; shortened so a pasted blob does not flood it.
    private static func quoted(_ value: String) -> String {
        let limit = 120
        let shown = value.count > limit ? String(value.prefix(limit)) + "..." : value
        return shown.debugDescription
    }
}

/// Every problem found in the environment, reported together so an operator
/// fixes them in one pass instead of one restart per mistake.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let problems: [SettingsProblem]

    public init(problems: [SettingsProblem]) {
        self.problems = problems
    }

    public var description: String {
        let noun = problems.count == 1 ? "setting" : "settings"
        return (["invalid \(noun) in the environment:"] + problems.map { "  \($0)" }).joined(separator: "\n")
    }

    public func problem(for variable: String) -> SettingsProblem? {
        problems.first { $0.variable == variable }
    }
}
