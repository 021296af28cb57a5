/// Why one value was refused: what was expected instead, in words an operator
/// can act on.
struct InvalidValue: Error {
    let expected: String
}

/// Reads variables one by one and records every problem instead of stopping at
/// the first, falling back to the default so that reading can go on.
struct EnvironmentReader {
    /// Never echoed in an error and handed to the logger for redaction.
    static let secretVariables: Set<String> = [
        "CONSUL_HTTP_TOKEN", "REDIS_PASSWORD", "MANTA_PRIVATE_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    ]

    /// Never echoed in an error either, but not redacted: the agent's local
    /// config often carries its gossip key or ACL tokens, yet as a whole it is
    /// a document, not a value to mask.
    static let unechoedVariables: Set<String> = secretVariables.union(["CONSUL_LOCAL_CONFIG"])

    private let environment: [String: String]
    private(set) var problems: [SettingsProblem] = []

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    /// The value of a variable, or nil when unset. An empty value counts as
    /// unset because compose files and `_env` files routinely produce `NAME=`.
    /// Surrounding whitespace is dropped from anything but secrets, where it
    /// could be part of the value.
    func text(_ name: String) -> String? {
        guard let raw = environment[name] else { return nil }
        let value = EnvironmentReader.secretVariables.contains(name) ? raw : raw.trimmingWhitespace
        return value.isEmpty ? nil : value
    }

    func isSet(_ name: String) -> Bool {
        text(name) != nil
    }

    mutating func report(_ name: String, expected: String) {
        let value = text(name) ?? ""
        let kind: SettingsProblem.Kind = EnvironmentReader.unechoedVariables.contains(name) || Self.mayHoldCredentials(value)
            ? .hiddenValue : .invalid(value: value)
        problems.append(SettingsProblem(variable: name, kind: kind, expected: expected))
    }

    /// `scheme://user:password@host` is refused wherever a URL is read, but
    /// the refusal must not carry the password into a log.
    static func mayHoldCredentials(_ value: String) -> Bool {
        guard let separator = value.range(of: "://") else { return false }
        return value[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }.contains("@")
    }

    mutating func reportMissing(_ name: String, because reason: String) {
        problems.append(SettingsProblem(variable: name, kind: .missing, expected: "required \(reason)"))
    }

    mutating func optional<T>(_ name: String, _ parse: (String) throws(InvalidValue) -> T) -> T? {
        guard let value = text(name) else { return nil }
        do {
            return try parse(value)
        } catch {
            report(name, expected: error.expected)
            return nil
        }
    }

    mutating func value<T>(_ name: String, default fallback: T, _ parse: (String) throws(InvalidValue) -> T) -> T {
        optional(name, parse) ?? fallback
    }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    var containsControlCharacter: Bool {
        unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
