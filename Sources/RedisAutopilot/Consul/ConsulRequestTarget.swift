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
        path = prefix + PercentEncoding.encode(segment)
    }

    /// `prefix` followed by a KV key whose `/` separators stay as they are.
    init(_ prefix: String, key: String) {
        path = prefix + PercentEncoding.encode(key, keepingSlash: true)
    }

    /// A parameter that Consul reads by its presence alone (`?recurse`, `?passing`).
    mutating func flag(_ name: String, _ present: Bool = true) {
        if present { query.append(name) }
    }

    mutating func value(_ name: String, _ value: String?) {
        if let value { query.append(name + "=" + PercentEncoding.encode(value)) }
    }

    var text: String {
        query.isEmpty ? path : path + "?" + query.joined(separator: "&")
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
