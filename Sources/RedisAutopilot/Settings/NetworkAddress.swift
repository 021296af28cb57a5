import Glibc

/// A host with an optional port, such as the Consul server an agent joins.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int?

    public init(host: String, port: Int?) {
        self.host = host
        self.port = port
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(shownHost):\($0)" } ?? shownHost
    }
}

enum NetworkAddressText {
    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    static func hostPort(_ text: String) throws(InvalidValue) -> HostPort {
        let what = "a host or host:port"
        let invalid = InvalidValue(expected: what)
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw invalid }
                portText = rest.dropFirst()
            }
            guard isIPAddress(String(host)), host.contains(":") else { throw invalid }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw invalid }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
            guard isHostName(String(host)) || isIPAddress(String(host)) else { throw invalid }
        }
        var port: Int?
        if let portText {
            guard let value = ValueParsers.decimal(String(portText)), (1...65535).contains(value) else {
                throw InvalidValue(expected: "\(what) with a port from 1 to 65535")
            }
            port = value
        }
        return HostPort(host: String(host), port: port)
    }

    /// An HTTP API address, parsed by Net's `HTTPBaseURL` with the rules the
    /// settings add on top: every such setting names a server, so no path; a
    /// host must be a DNS name or an IP address (the URL parser takes any
    /// host characters, so `999.1.1.1` would otherwise pass); and a scheme
    /// unless the variable's own ecosystem allows a bare `host:port`, which
    /// `HTTPBaseURL` reads as http (Consul's `CONSUL_HTTP_ADDR` does).
    static func httpBaseURL(_ text: String, allowsBareHostPort: Bool) throws(InvalidValue) -> HTTPBaseURL {
        let what = allowsBareHostPort
            ? "host:port, http://host:port or https://host:port"
            : "an http:// or https:// URL with a host and an optional port, without a path"
        let url: HTTPBaseURL
        do {
            url = try HTTPBaseURL(parsing: text)
        } catch {
            throw InvalidValue(expected: "\(what): \(error)")
        }
        // Parsing succeeded, so a scheme, if any, was http or https.
        let lowercased = text.lowercased()
        guard allowsBareHostPort || lowercased.hasPrefix("http://") || lowercased.hasPrefix("https://") else {
            throw InvalidValue(expected: "\(what): the scheme is missing")
        }
        guard url.pathPrefix.isEmpty else {
            throw InvalidValue(expected: "\(what): the path \"\(url.pathPrefix)\" is not allowed")
        }
        guard isHostName(url.host) || isIPAddress(url.host) else {
            throw InvalidValue(expected: "\(what): \"\(url.host)\" is neither a DNS name nor an IP address")
        }
        return url
    }

    /// DNS names as Docker and Triton hand them out; underscores included
    /// because compose service names may have them.
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        // An all-digit last label is a mistyped IPv4 address, not a name.
        if let last = labels.last, last.allSatisfy({ $0.isASCII && $0.isNumber }) { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var buffer = in6_addr()
        return text.withCString { inet_pton(AF_INET, $0, &buffer) == 1 || inet_pton(AF_INET6, $0, &buffer) == 1 }
    }
}
