/// One variable that could not be accepted.
struct SettingsProblem: Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The value as given.
        case invalid(value: String)
        /// A secret's value (or one that may hold secrets) was refused; it is
        /// never repeated.
        case hiddenValue
        /// Unset, but needed by the settings around it.
        case missing
    }

    let variable: String
    let kind: Kind
    /// What would have been accepted, or why the variable is needed.
    let expected: String

    init(variable: String, kind: Kind, expected: String) {
        self.variable = variable
        self.kind = kind
        self.expected = expected
    }

    var description: String {
        switch kind {
        case .invalid(let value): return "\(variable)=\(SettingsProblem.quoted(value)): expected \(expected)"
        case .hiddenValue: return "\(variable) (value not shown): expected \(expected)"
        case .missing: return "\(variable) is not set: \(expected)"
        }
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
struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    let problems: [SettingsProblem]

    init(problems: [SettingsProblem]) {
        self.problems = problems
    }

    var description: String {
        let noun = problems.count == 1 ? "setting" : "settings"
        return (["invalid \(noun) in the environment:"] + problems.map { "  \($0)" }).joined(separator: "\n")
    }

    func problem(for variable: String) -> SettingsProblem? {
        problems.first { $0.variable == variable }
    }
}
