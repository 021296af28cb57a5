import Foundation

/// The shapes of value the settings accept. Each turns text into a typed value
/// or says what it expected; none of them trusts the input.
enum ValueParsers {
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        let expected = range.upperBound == Int.max
            ? "a whole number of at least \(range.lowerBound)"
            : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard let value = decimal(text), range.contains(value) else { throw InvalidValue(expected: expected) }
        return value
    }

    static func port(_ text: String) throws(InvalidValue) -> Int {
        guard let value = decimal(text), (1...65535).contains(value) else {
            throw InvalidValue(expected: "a port number from 1 to 65535")
        }
        return value
    }

    /// Digits only: Swift's `Int(_:)` would also take `+5`, and a sign in a
    /// port or count is more likely a typo than intent.
    static func decimal(_ text: String) -> Int? {
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        var value = 0
        for scalar in text.unicodeScalars {
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = times10.addingReportingOverflow(Int(scalar.value - 48))
            if overflowA || overflowB { return nil }
            value = next
        }
        return value
    }

    /// `minimum` keeps out values the consumer cannot use (a zero timeout);
    /// `granularity` those it cannot express (Redis takes whole seconds for
    /// `min-replicas-max-lag`).
    static func duration(_ text: String, minimum: Duration = .nanoseconds(1), granularity: Duration = .nanoseconds(1)) throws(InvalidValue) -> Duration {
        let example = "a duration such as 500ms, 30s, 10m or 1h30m"
        let value: Duration
        do {
            value = try DurationText.parse(text)
        } catch {
            throw InvalidValue(expected: "\(example): \(error)")
        }
        if value < minimum {
            throw InvalidValue(expected: "\(example), at least \(DurationText.format(minimum))")
        }
        if nanoseconds(value) % nanoseconds(granularity) != 0 {
            throw InvalidValue(expected: "\(example) in whole multiples of \(DurationText.format(granularity))")
        }
        return value
    }

    /// Exact for every duration `DurationText.parse` returns (at most
    /// Int64.max nanoseconds).
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    static func choice<T>(_ text: String, _ options: KeyValuePairs<String, T>) throws(InvalidValue) -> T {
        let wanted = text.lowercased()
        if let match = options.first(where: { $0.key == wanted }) { return match.value }
        throw InvalidValue(expected: "one of " + options.map(\.key).joined(separator: ", "))
    }

    static func absolutePath(_ text: String) throws(InvalidValue) -> String {
        guard text.hasPrefix("/"), !text.containsControlCharacter else {
            throw InvalidValue(expected: "an absolute path (starting with /)")
        }
        return text
    }

    /// Names that end up in URLs, HTTP headers or Manta paths: restricted so
    /// that a stray newline or slash cannot reshape a request.
    static func name(_ text: String, extraCharacters: String = "", what: String) throws(InvalidValue) -> String {
        let allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
            .union(CharacterSet(charactersIn: extraCharacters))
        guard text.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            throw InvalidValue(expected: "\(what) made of letters, digits and \(extraCharacters.map { String($0) }.joined(separator: " "))")
        }
        return text
    }

    /// Header values and opaque strings: anything printable.
    static func printable(_ text: String, what: String) throws(InvalidValue) -> String {
        guard !text.containsControlCharacter else { throw InvalidValue(expected: "\(what) without control characters") }
        return text
    }

    /// A value Sentinel writes back to its config file unquoted.
    static func bareWord(_ text: String, what: String) throws(InvalidValue) -> String {
        guard RedisConfSyntax.isBareWord(text) else {
            throw InvalidValue(expected: "\(what) of printable ASCII without spaces or quotes")
        }
        return text
    }

    static func jsonObject(_ text: String) throws(InvalidValue) -> String {
        let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        guard parsed is [String: Any] else { throw InvalidValue(expected: "a JSON object ({...})") }
        return text
    }

    static func ipAddress(_ text: String) throws(InvalidValue) -> String {
        guard NodeAddress.isIPAddress(text) else { throw InvalidValue(expected: "an IPv4 or IPv6 address") }
        return text
    }

    /// Bytes with an optional binary suffix. `k`, `M` and `G` are binary too,
    /// as in dd and most storage tools, so `16M` and `16MiB` agree.
    static func byteSize(_ text: String, in range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        let expected = "a size in bytes with an optional KiB, MiB or GiB (or k, M, G) suffix, "
            + "from \(ByteSizeText.format(range.lowerBound)) to \(ByteSizeText.format(range.upperBound))"
        let digits = String(text.prefix { $0.isASCII && $0.isNumber })
        let suffix = text.dropFirst(digits.count).lowercased()
        let multipliers: [String: Int] = ["": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30]
        guard let number = decimal(digits), let multiplier = multipliers[suffix] else { throw InvalidValue(expected: expected) }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, range.contains(bytes) else { throw InvalidValue(expected: expected) }
        return bytes
    }
}

enum ByteSizeText {
    static func format(_ bytes: Int) -> String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes) bytes"
    }
}
