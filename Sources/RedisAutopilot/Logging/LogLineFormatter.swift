import Foundation
import Glibc

/// Renders an event as one line of text or JSON. Whatever the message or
/// fields contain, the result holds no newline, so one event is one line.
struct LogLineFormatter: Sendable {
    let format: LogFormat

    func line(for event: LogEvent) -> String {
        switch format {
        case .text: return textLine(event)
        case .json: return jsonLine(event)
        }
    }

    /// `2026-01-02T03:04:05.678Z INFO  message key=value`
    private func textLine(_ event: LogEvent) -> String {
        let levelName = event.level.description
        var line = LogLineFormatter.timestamp(event.time) + " " + levelName
            + String(repeating: " ", count: max(1, 6 - levelName.count)) + LogLineFormatter.escapedControls(event.message)
        for field in event.fields {
            line += " " + LogLineFormatter.textKey(field.key) + "=" + LogLineFormatter.textValue(field.value.text)
        }
        return line
    }

    /// `{"time":...,"level":...,"msg":...,<fields>}`; a field named like one of
    /// the three gets a `_` in front so it cannot shadow them.
    private func jsonLine(_ event: LogEvent) -> String {
        var line = "{\"time\":" + LogLineFormatter.jsonString(LogLineFormatter.timestamp(event.time))
            + ",\"level\":" + LogLineFormatter.jsonString(event.level.description)
            + ",\"msg\":" + LogLineFormatter.jsonString(event.message)
        for field in event.fields {
            let key = ["time", "level", "msg"].contains(field.key) ? "_" + field.key : field.key
            line += "," + LogLineFormatter.jsonString(key) + ":"
            switch field.value {
            case .string(let text): line += LogLineFormatter.jsonString(text)
            case .integer(let text), .number(let text): line += text
            case .boolean(let flag): line += flag ? "true" : "false"
            }
        }
        return line + "}"
    }

    /// UTC with milliseconds, computed with gmtime_r: no shared formatter,
    /// no locale. Rounded to the microsecond before truncating to the
    /// millisecond, because .678 s is stored as .67799999... in a Double.
    static func timestamp(_ date: Date) -> String {
        let scaled = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let microseconds = abs(scaled) < 9e18 ? Int64(scaled) : 0
        let milliseconds = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction
        )
    }

    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            // Valid JSON either way, but raw they break JavaScript consumers
            // and terminals.
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += String(format: "\\u%04x", scalar.value)
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Control characters as escapes, so a multi-line message stays on its line.
    static func escapedControls(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.properties.generalCategory == .control:
                result += String(format: "\\u{%x}", scalar.value)
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// logfmt: quoted only when needed, so simple values stay easy to grep.
    static func textValue(_ text: String) -> String {
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains {
            $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.properties.generalCategory == .control
        }
        guard needsQuotes else { return text }
        let quotedText = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + escapedControls(quotedText) + "\""
    }

    static func textKey(_ key: String) -> String {
        let cleaned = String(String.UnicodeScalarView(key.unicodeScalars.map {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == ".") ? $0 : "_"
        }))
        return cleaned.isEmpty ? "_" : cleaned
    }
}
