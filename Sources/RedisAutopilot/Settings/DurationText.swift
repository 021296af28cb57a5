/// Durations written the way Go and Consul write them (`500ms`, `30s`, `1h30m`,
/// `1.5h`), so operators can use the notation they already know from Consul
/// and ContainerPilot. A bare integer means seconds: the original
/// `MASTER_WAIT_TIMEOUT` was a plain number of seconds and must keep working.
enum DurationText {
    enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case negative
        case missingNumber(at: String)
        case missingUnit(after: String)
        case unknownUnit(String)
        case overflow

        var description: String {
            switch self {
            case .empty: return "empty duration"
            case .negative: return "negative durations are not allowed"
            case .missingNumber(let rest): return "expected a number before \"\(rest)\""
            case .missingUnit(let number): return "missing unit after \(number); units are ns, us, ms, s, m and h"
            case .unknownUnit(let unit): return "unknown unit \"\(unit)\"; units are ns, us, ms, s, m and h"
            case .overflow: return "duration too large"
            }
        }
    }

    /// The units Go's time.ParseDuration accepts, in nanoseconds.
    private static let units: [String: Int64] = [
        "ns": 1,
        "us": 1_000,
        "\u{00B5}s": 1_000,  // micro sign
        "\u{03BC}s": 1_000,  // Greek small letter mu
        "ms": 1_000_000,
        "s": 1_000_000_000,
        "m": 60_000_000_000,
        "h": 3_600_000_000_000,
    ]

    /// Go's limit: an Int64 count of nanoseconds (about 292 years).
    static func parse(_ text: String) throws(ParseError) -> Duration {
        let characters = Array(text.unicodeScalars)
        if characters.isEmpty { throw .empty }
        if characters[0] == "-" { throw .negative }
        if characters.allSatisfy(isDigit) {
            return .nanoseconds(try scaled(wholeDigits: characters, unitNanoseconds: 1_000_000_000))
        }

        var total: Int64 = 0
        var index = 0
        while index < characters.count {
            let numberStart = index
            while index < characters.count, isDigit(characters[index]) { index += 1 }
            let whole = Array(characters[numberStart..<index])
            var fraction: [Unicode.Scalar] = []
            var hasPoint = false
            if index < characters.count, characters[index] == "." {
                hasPoint = true
                index += 1
                let fractionStart = index
                while index < characters.count, isDigit(characters[index]) { index += 1 }
                fraction = Array(characters[fractionStart..<index])
            }
            if whole.isEmpty && fraction.isEmpty {
                throw .missingNumber(at: String(String.UnicodeScalarView(characters[numberStart...])))
            }
            let unitStart = index
            while index < characters.count, characters[index] != ".", !isDigit(characters[index]) { index += 1 }
            let unit = String(String.UnicodeScalarView(characters[unitStart..<index]))
            let number = String(String.UnicodeScalarView(whole)) + (hasPoint ? "." : "") + String(String.UnicodeScalarView(fraction))
            if unit.isEmpty { throw .missingUnit(after: number) }
            guard let unitNanoseconds = units[unit] else { throw .unknownUnit(unit) }

            let wholePart = try scaled(wholeDigits: whole, unitNanoseconds: unitNanoseconds)
            let fractionPart = fractionNanoseconds(fraction, unitNanoseconds: unitNanoseconds)
            let (partial, overflowA) = total.addingReportingOverflow(wholePart)
            let (sum, overflowB) = partial.addingReportingOverflow(fractionPart)
            if overflowA || overflowB { throw .overflow }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// The shortest Go-style rendering (`1h30m`, `500ms`, `0s`), used in help,
    /// logs and error messages so they read like the settings themselves.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return "-" + format(.zero - duration) }
        if seconds == 0 && attoseconds == 0 { return "0s" }
        let nanos = attoseconds / 1_000_000_000
        if seconds == 0 {
            if nanos % 1_000_000 == 0 { return "\(nanos / 1_000_000)ms" }
            if nanos % 1_000 == 0 { return "\(nanos / 1_000)us" }
            return "\(nanos)ns"
        }
        var text = ""
        let hours = seconds / 3600
        let minutes = (seconds % 3600) / 60
        let rest = seconds % 60
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if rest > 0 || nanos > 0 || text.isEmpty {
            text += "\(rest)"
            if nanos > 0 {
                var digits = String(nanos)
                digits = String(repeating: "0", count: 9 - digits.count) + digits
                while digits.hasSuffix("0") { digits.removeLast() }
                text += "." + digits
            }
            text += "s"
        }
        return text
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar >= "0" && scalar <= "9"
    }

    private static func scaled(wholeDigits: [Unicode.Scalar], unitNanoseconds: Int64) throws(ParseError) -> Int64 {
        var value: Int64 = 0
        for digit in wholeDigits {
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = times10.addingReportingOverflow(Int64(digit.value - 48))
            if overflowA || overflowB { throw .overflow }
            value = next
        }
        let (result, overflow) = value.multipliedReportingOverflow(by: unitNanoseconds)
        if overflow { throw .overflow }
        return result
    }

    /// Go rounds a fraction through float64 as well; digits past the 18th
    /// cannot change the result at nanosecond resolution.
    private static func fractionNanoseconds(_ digits: [Unicode.Scalar], unitNanoseconds: Int64) -> Int64 {
        var numerator: Int64 = 0
        var scale: Double = 1
        for digit in digits.prefix(18) {
            numerator = numerator * 10 + Int64(digit.value - 48)
            scale *= 10
        }
        return Int64(Double(numerator) * (Double(unitNanoseconds) / scale))
    }
}

extension Duration {
    /// Seconds as a Double, the unit `Deadline.after(seconds:)` and the
    /// socket APIs take.
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds (truncated), for Sentinel's `*-milliseconds` options.
    var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
