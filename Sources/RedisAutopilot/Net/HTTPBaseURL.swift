import Glibc

enum HTTPBaseURLError: Error, Equatable, CustomStringConvertible {
    case empty
    case containsWhitespace(String)
    case unsupportedScheme(String)
    case missingHost(String)
    case invalidHost(String)
    case invalidPort(String)
    /// The input is not repeated: credentials in a URL would end up in logs.
    case userInfoNotAllowed
    /// The input is not repeated: a query may carry a token.
    case queryOrFragmentNotAllowed
    case invalidPath(String)

    var description: String {
        switch self {
        case .empty:
            return "empty HTTP address"
        case let .containsWhitespace(input):
            return "HTTP address \"\(input)\" contains whitespace"
        case let .unsupportedScheme(scheme):
            return "unsupported scheme \"\(scheme)\" (expected http or https)"
        case let .missingHost(input):
            return "HTTP address \"\(input)\" has no host"
        case let .invalidHost(host):
            return "invalid host \"\(host)\" in HTTP address"
        case let .invalidPort(port):
            return "invalid port \"\(port)\" in HTTP address (expected 1-65535)"
        case .userInfoNotAllowed:
            return "HTTP address must not contain user:password@"
        case .queryOrFragmentNotAllowed:
            return "HTTP address must not contain a query or fragment"
        case let .invalidPath(path):
            return "invalid path \"\(path)\" in HTTP address"
        }
    }
}

/// Where an HTTP API lives: scheme, host, port and an optional path prefix
/// that every request target is appended to. Accepts a full URL
/// (`https://host`, `http://[::1]:9000/prefix`) or a bare `host:port`, the
/// form Consul's `CONSUL_HTTP_ADDR` uses, which means http.
struct HTTPBaseURL: Sendable, Equatable, CustomStringConvertible {
    enum Scheme: String, Sendable {
        case http
        case https

        var defaultPort: Int { self == .http ? 80 : 443 }
    }

    let scheme: Scheme
    /// A name or address; IPv6 without brackets.
    let host: String
    let port: Int
    /// Empty, or starting with "/" and without a trailing "/".
    let pathPrefix: String

    init(scheme: Scheme, host: String, port: Int? = nil, pathPrefix: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
        self.pathPrefix = pathPrefix
    }

    init(parsing input: String) throws {
        guard !input.isEmpty else { throw HTTPBaseURLError.empty }
        guard !input.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPBaseURLError.containsWhitespace(input)
        }
        guard !input.contains("?"), !input.contains("#") else { throw HTTPBaseURLError.queryOrFragmentNotAllowed }

        var rest = Substring(input)
        var scheme = Scheme.http
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let name = rest[..<colon].lowercased()
            guard let known = Scheme(rawValue: name) else { throw HTTPBaseURLError.unsupportedScheme(name) }
            scheme = known
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }

        let authority = rest.prefix { $0 != "/" }
        let path = rest[authority.endIndex...]
        guard !authority.contains("@") else { throw HTTPBaseURLError.userInfoNotAllowed }
        let (host, portText) = try Self.splitAuthority(authority, input: input)

        var port = scheme.defaultPort
        if let portText {
            guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let number = Int(portText), (1...65535).contains(number) else {
                throw HTTPBaseURLError.invalidPort(String(portText))
            }
            port = number
        }

        self.init(scheme: scheme, host: host, port: port, pathPrefix: try Self.normalizedPrefix(path))
    }

    /// Splits `host[:port]` or `[v6]:port`; the port is nil when absent.
    private static func splitAuthority(_ authority: Substring, input: String) throws -> (String, Substring?) {
        guard !authority.isEmpty else { throw HTTPBaseURLError.missingHost(input) }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw HTTPBaseURLError.invalidHost(String(authority)) }
            let literal = String(authority[authority.index(after: authority.startIndex)..<close])
            guard isIPv6Literal(literal) else { throw HTTPBaseURLError.invalidHost(literal) }
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (literal, nil) }
            guard after.hasPrefix(":") else { throw HTTPBaseURLError.invalidHost(String(authority)) }
            return (literal, after.dropFirst())
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw HTTPBaseURLError.invalidHost(String(authority)) }
        let host = parts[0]
        guard !host.isEmpty else { throw HTTPBaseURLError.missingHost(input) }
        guard host.allSatisfy(isHostCharacter), host.first != "-", host.first != "." else {
            throw HTTPBaseURLError.invalidHost(String(host))
        }
        return (String(host), parts.count == 2 ? parts[1] : nil)
    }

    private static func isHostCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "-._".contains(character))
    }

    private static func isIPv6Literal(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    private static func normalizedPrefix(_ path: Substring) throws -> String {
        var prefix = path
        while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        guard prefix.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { throw HTTPBaseURLError.invalidPath(String(path)) }
        return String(prefix)
    }

    /// The authority as a Host header carries it: the port only when it is not the default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == scheme.defaultPort ? name : "\(name):\(port)"
    }

    var endpoint: SocketEndpoint { .tcp(host: host, port: port) }

    /// The request target with the prefix in front, as it goes on the wire.
    func fullTarget(_ target: String) -> String {
        pathPrefix + target
    }

    /// The absolute URL of a request target, for clients that take URLs.
    func urlString(for target: String) -> String {
        "\(scheme.rawValue)://\(hostHeader)\(fullTarget(target))"
    }

    var description: String { urlString(for: "") }
}
