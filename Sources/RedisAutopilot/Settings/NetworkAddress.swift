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

/// Where an HTTP API lives: scheme, host and port, without a path.
public struct HTTPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable {
        case http
        case https

        public var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public let scheme: Scheme
    /// A name or an IP address; IPv6 without brackets.
    public let host: String
    public let port: Int

    public init(scheme: Scheme, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The value of a `Host` header: the port only when it is not the default.
    public var hostHeader: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return port == scheme.defaultPort ? shownHost : "\(shownHost):\(port)"
    }

    public var description: String { "\(scheme.rawValue)://\(hostHeader)" }

    /// The same address as the HTTP transports take it.
    public var baseURL: HTTPBaseURL {
        HTTPBaseURL(scheme: scheme == .https ? .https : .http, host: host, port: port)
    }
}

enum NetworkAddressText {
    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    static func hostPort(_ text: String, what: String = "a host or host:port") throws(InvalidValue) -> HostPort {
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

    /// `scheme://host[:port][/]`, or `host[:port]` when `defaultScheme` is
    /// given (Consul's own `CONSUL_HTTP_ADDR` takes both forms).
    static func httpEndpoint(_ text: String, defaultScheme: HTTPEndpoint.Scheme?) throws(InvalidValue) -> HTTPEndpoint {
        let what = defaultScheme == nil
            ? "an http:// or https:// URL with a host and an optional port, without a path"
            : "host:port, http://host:port or https://host:port"
        var rest = Substring(text)
        let scheme: HTTPEndpoint.Scheme
        if let separator = text.range(of: "://") {
            guard let given = HTTPEndpoint.Scheme(rawValue: text[..<separator.lowerBound].lowercased()) else {
                throw InvalidValue(expected: "\(what) (the scheme must be http or https)")
            }
            scheme = given
            rest = text[separator.upperBound...]
        } else if let defaultScheme {
            scheme = defaultScheme
        } else {
            throw InvalidValue(expected: what)
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("@"), !rest.contains("?"), !rest.contains("#") else {
            throw InvalidValue(expected: what)
        }
        let address = try hostPort(String(rest), what: what)
        return HTTPEndpoint(scheme: scheme, host: address.host, port: address.port ?? scheme.defaultPort)
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
