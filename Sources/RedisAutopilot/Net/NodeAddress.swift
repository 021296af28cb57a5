import Glibc

/// Why text cannot be a node's address. The refused text is quoted with
/// control and non-ASCII bytes escaped and cut short, so that an answer
/// built to break a log line or a config file can be shown safely.
enum NodeAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidHost(String)
    case invalidPort(String)
    /// Not `host:port`, `[IPv6]:port` (or, where a default port applies, `host` or `[IPv6]`).
    case malformed(String)

    var description: String {
        switch self {
        case let .invalidHost(text):
            return "\"\(text)\" is neither an IP address nor a host name"
        case let .invalidPort(text):
            return "\"\(text)\" is not a port from 1 to 65535"
        case let .malformed(text):
            return "\"\(text)\" is not host:port or [IPv6]:port"
        }
    }
}

/// The address other nodes use to reach a Redis or Sentinel: what this node
/// announces, what Consul lists and what Sentinel names. Only an IP literal
/// (IPv4 or IPv6) or a host name, and a port from 1 to 65535, can become one,
/// so an address that reached a config file, a connection or a log line was
/// checked on its way in, wherever it came from.
public struct NodeAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    let host: String
    let port: Int

    init(host: String, port: Int) throws(NodeAddressError) {
        guard Self.isValidHost(host) else { throw .invalidHost(HTTPParseError.quote(host.utf8, limit: 64)) }
        guard (1...65535).contains(port) else { throw .invalidPort(String(port)) }
        self.host = host
        self.port = port
    }

    /// A port that arrived as text (a Sentinel reply, an INFO field): digits only.
    init(host: String, portText: String) throws(NodeAddressError) {
        guard portText.utf8.count <= 5, let port = HTTPResponseParser.decimal(portText.utf8) else {
            throw .invalidPort(HTTPParseError.quote(portText.utf8, limit: 16))
        }
        try self.init(host: host, port: port)
    }

    /// `host:port` or `[IPv6]:port`; with a `defaultPort`, also `host` and `[IPv6]`.
    init(parsing text: String, defaultPort: Int? = nil) throws(NodeAddressError) {
        let malformed = NodeAddressError.malformed(HTTPParseError.quote(text.utf8, limit: 64))
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw malformed }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw malformed }
                portText = rest.dropFirst()
            }
            // Brackets are for IPv6 literals only.
            guard host.contains(":") else { throw malformed }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw malformed }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        if let portText {
            try self.init(host: String(host), portText: String(portText))
        } else if let defaultPort {
            try self.init(host: String(host), port: defaultPort)
        } else {
            throw malformed
        }
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    var endpoint: SocketEndpoint {
        .tcp(host: host, port: port)
    }

    public static func < (lhs: NodeAddress, rhs: NodeAddress) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }

    static func isValidHost(_ text: String) -> Bool {
        isIPAddress(text) || isHostName(text)
    }

    /// RFC 1123 names: dot-separated labels of letters, digits and inner
    /// hyphens, 63 bytes at most each and 253 in all. Underscores are allowed
    /// too, as Docker's DNS answers for compose service names that have them;
    /// none of these characters needs quoting anywhere a host is written.
    static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        // An all-digit last label is a mistyped IPv4 address, not a name.
        if let last = labels.last, last.allSatisfy(isDigit) { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }

    /// An IPv4 dotted quad or an IPv6 literal without zone, as inet_pton reads them.
    static func isIPAddress(_ text: String) -> Bool {
        // inet_pton stops at a NUL: "1.2.3.4\0junk" must not pass.
        guard !text.utf8.contains(0), text.utf8.count <= 45 else { return false }
        var buffer = in6_addr()
        return text.withCString { inet_pton(AF_INET, $0, &buffer) == 1 || inet_pton(AF_INET6, $0, &buffer) == 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}

extension Array where Element == NodeAddress {
    /// The address named most often, ties broken by address order so every
    /// node that sees the same answers picks the same one.
    func mostNamed() -> (address: NodeAddress, votes: Int)? {
        var counts: [NodeAddress: Int] = [:]
        for address in self { counts[address, default: 0] += 1 }
        return counts
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .first
            .map { (address: $0.key, votes: $0.value) }
    }

    var listed: String {
        isEmpty ? "none" : sorted().map(\.description).joined(separator: ", ")
    }
}
