/// Builds the percent-encoded targets of Consul API calls. Service IDs, check
/// IDs and session IDs are single path segments, so everything but RFC 3986's
/// unreserved characters is escaped (a `/` in an ID must not become a new
/// segment); KV keys keep their `/` because Consul reads the rest of the path
/// as the key.
struct ConsulRequestTarget {
    private var path: String
    private var query: [String] = []

    init(_ prefix: String) {
        path = prefix
    }

    /// `prefix` followed by one escaped path segment.
    init(_ prefix: String, segment: String) {
        path = prefix + Self.escape(segment, keeping: nil)
    }

    /// `prefix` followed by a KV key whose `/` separators stay as they are.
    init(_ prefix: String, key: String) {
        path = prefix + Self.escape(key, keeping: UInt8(ascii: "/"))
    }

    /// A parameter that Consul reads by its presence alone (`?recurse`, `?passing`).
    mutating func flag(_ name: String, _ present: Bool = true) {
        if present { query.append(name) }
    }

    mutating func value(_ name: String, _ value: String?) {
        if let value { query.append(name + "=" + Self.escape(value, keeping: nil)) }
    }

    var text: String {
        query.isEmpty ? path : path + "?" + query.joined(separator: "&")
    }

    private static func escape(_ text: String, keeping extra: UInt8?) -> String {
        var escaped = ""
        for byte in text.utf8 {
            if isUnreserved(byte) || byte == extra {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                escaped += "%" + hexDigit(byte >> 4) + hexDigit(byte & 0x0F)
            }
        }
        return escaped
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> String {
        String(Unicode.Scalar(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10))
    }
}

/// Consul takes durations as Go duration strings ("15s", "1500ms").
enum ConsulDuration {
    /// Whole seconds when exact, else milliseconds. Out-of-range input is
    /// clamped rather than trapping: settings are validated before they get here.
    static func format(seconds: Double) -> String {
        let clamped = seconds.isFinite ? min(max(seconds, 0), 1_000_000_000) : 0
        let millis = Int64((clamped * 1000).rounded())
        return millis % 1000 == 0 ? "\(millis / 1000)s" : "\(millis)ms"
    }
}
