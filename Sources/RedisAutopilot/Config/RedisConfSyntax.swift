/// Why a value cannot go into redis.conf or sentinel.conf. The value is shown
/// escaped and cut short, and never when it is a secret.
enum ConfigWriterError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidValue(directive: String, value: String, expected: String)

    var description: String {
        switch self {
        case let .invalidValue(directive, value, expected):
            return "cannot write \(directive) \(value): expected \(expected)"
        }
    }
}

/// A configuration line: the directive's name, then its arguments, as Redis
/// reads them after splitting the line.
typealias ConfDirective = [String]

/// How redis.conf and sentinel.conf lines are split and written. Redis reads
/// each line with `sdssplitargs` (sds.c): words separated by blanks, a word
/// may be "double quoted" with C escapes (`\n`, `\xHH`, `\"`) or 'single
/// quoted', and a closing quote must end the word.
enum RedisConfSyntax {
    /// One line of the file: every value is double-quoted, so whatever it
    /// holds it stays one argument of this directive. The directive's name
    /// (with Sentinel's sub-command) and numbers are written as they are.
    static func line(_ directive: ConfDirective) -> String {
        let keywords = directive.first == "sentinel" ? 2 : 1
        return directive.enumerated().map { index, word in
            index < keywords || (!word.isEmpty && word.utf8.allSatisfy { (0x30...0x39).contains($0) }) ? word : quote(word)
        }.joined(separator: " ")
    }

    static func render(_ directives: [ConfDirective], comment: String) -> String {
        (["# " + comment] + directives.map(line)).joined(separator: "\n") + "\n"
    }

    /// A value Redis writes back unquoted (Sentinel's CONFIG REWRITE writes
    /// auth-pass, hosts and the reconfig script raw) must read back the same
    /// that way: printable ASCII without blanks and quotes.
    static func isBareWord(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") }
    }

    static func quote(_ value: String) -> String {
        var out = "\""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + hex(byte)
            }
        }
        return out + "\""
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// The directives of a file as Redis loads it: lines split at LF and
    /// trimmed of blanks, blank lines and `#` comments skipped. nil when Redis
    /// would refuse a line (unbalanced quotes). Arguments are bytes read as
    /// UTF-8 (invalid sequences replaced).
    static func parse(_ text: String) -> [ConfDirective]? {
        // Redis reads the file as a C string: a NUL ends it.
        let bytes = Array(text.utf8.prefix { $0 != 0 })
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var directives: [ConfDirective] = []
        var lineStart = 0
        while lineStart <= bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var first = lineStart
            var last = lineEnd
            while first < last && isBlank(bytes[first]) { first += 1 }
            while last > first && isBlank(bytes[last - 1]) { last -= 1 }
            lineStart = lineEnd + 1
            guard first < last, bytes[first] != UInt8(ascii: "#") else { continue }
            guard let words = split(bytes[first..<last]) else { return nil }
            if !words.isEmpty { directives.append(words.map { String(decoding: $0, as: UTF8.self) }) }
        }
        return directives
    }

    /// `sdssplitargs`: nil on an unterminated quote or a closing quote not
    /// followed by a blank.
    static func split(_ bytes: ArraySlice<UInt8>) -> [[UInt8]]? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        let end = bytes.endIndex
        var words: [[UInt8]] = []
        var index = bytes.startIndex
        while true {
            while index < end && isSpace(bytes[index]) { index += 1 }
            guard index < end else { return words }
            var word: [UInt8] = []
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                let byte: UInt8? = index < end ? bytes[index] : nil
                let next: UInt8? = index + 1 < end ? bytes[index + 1] : nil
                if inDouble {
                    guard let byte else { return nil }
                    if byte == UInt8(ascii: "\\"), next == UInt8(ascii: "x"), index + 3 < end,
                       let high = hexValue(bytes[index + 2]), let low = hexValue(bytes[index + 3]) {
                        word.append(high << 4 | low)
                        index += 3
                    } else if byte == UInt8(ascii: "\\"), let escaped = next {
                        index += 1
                        switch escaped {
                        case UInt8(ascii: "n"): word.append(0x0A)
                        case UInt8(ascii: "r"): word.append(0x0D)
                        case UInt8(ascii: "t"): word.append(0x09)
                        case UInt8(ascii: "b"): word.append(0x08)
                        case UInt8(ascii: "a"): word.append(0x07)
                        default: word.append(escaped)
                        }
                    } else if byte == UInt8(ascii: "\"") {
                        if let next, !isSpace(next) { return nil }
                        done = true
                    } else {
                        word.append(byte)
                    }
                } else if inSingle {
                    guard let byte else { return nil }
                    if byte == UInt8(ascii: "\\"), next == UInt8(ascii: "'") {
                        index += 1
                        word.append(UInt8(ascii: "'"))
                    } else if byte == UInt8(ascii: "'") {
                        if let next, !isSpace(next) { return nil }
                        done = true
                    } else {
                        word.append(byte)
                    }
                } else {
                    switch byte {
                    case nil, 0x20?, 0x0A?, 0x0D?, 0x09?: done = true
                    case UInt8(ascii: "\"")?: inDouble = true
                    case UInt8(ascii: "'")?: inSingle = true
                    case let other?: word.append(other)
                    }
                }
                if index < end { index += 1 }
            }
            words.append(word)
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The checks both writers make before a value reaches a file.
struct ConfValueCheck {
    let directive: String

    func fail(_ shown: String, _ expected: String) -> ConfigWriterError {
        .invalidValue(directive: directive, value: shown, expected: expected)
    }

    func port(_ value: Int) throws(ConfigWriterError) -> String {
        guard (1...65535).contains(value) else { throw fail(String(value), "a port from 1 to 65535") }
        return String(value)
    }

    func count(_ value: Int, atLeast minimum: Int) throws(ConfigWriterError) -> String {
        guard value >= minimum else { throw fail(String(value), "a whole number of at least \(minimum)") }
        return String(value)
    }

    func ipAddress(_ value: String) throws(ConfigWriterError) -> String {
        guard NodeAddress.isIPAddress(value) else { throw fail(shown(value), "an IPv4 or IPv6 address") }
        return value
    }

    func absolutePath(_ value: String) throws(ConfigWriterError) -> String {
        guard value.hasPrefix("/"), !value.containsControlCharacter else {
            throw fail(shown(value), "an absolute path without control characters")
        }
        return value
    }

    /// A value Sentinel writes back raw on CONFIG REWRITE (see `isBareWord`).
    func bareWord(_ value: String, secret: Bool = false, what: String) throws(ConfigWriterError) -> String {
        guard RedisConfSyntax.isBareWord(value) else {
            throw fail(secret ? "(value hidden)" : shown(value),
                       "\(what) of printable ASCII without spaces or quotes, as Sentinel rewrites it unquoted")
        }
        return value
    }

    func text(_ value: String, secret: Bool = false, what: String) throws(ConfigWriterError) -> String {
        guard !value.isEmpty, !value.containsControlCharacter else {
            throw fail(secret ? "(value hidden)" : shown(value), "\(what) without control characters")
        }
        return value
    }

    /// Sentinel's run IDs: 40 hex digits.
    func runID(_ value: String) throws(ConfigWriterError) -> String {
        guard value.utf8.count == 40, value.utf8.allSatisfy({ $0 < 0x80 && Character(Unicode.Scalar($0)).isHexDigit }) else {
            throw fail(shown(value), "40 hexadecimal digits")
        }
        return value
    }

    private func shown(_ value: String) -> String {
        "\"" + HTTPParseError.quote(value.utf8, limit: 64) + "\""
    }
}
