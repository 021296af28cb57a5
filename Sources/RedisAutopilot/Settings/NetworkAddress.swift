enum NetworkAddressText {
    /// `host`, `host:port`, `[v6]` or `[v6]:port`, as `consul agent -retry-join`
    /// takes it; without a port it joins on Serf's LAN port.
    static func consulServer(_ text: String) throws(InvalidValue) -> NodeAddress {
        do {
            return try NodeAddress(parsing: text, defaultPort: serfLANPort)
        } catch {
            throw InvalidValue(expected: "an IP address or host name, with an optional port from 1 to 65535 (host:port, [IPv6]:port)")
        }
    }

    static let serfLANPort = 8301

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
        guard NodeAddress.isValidHost(url.host) else {
            throw InvalidValue(expected: "\(what): \"\(url.host)\" is neither a DNS name nor an IP address")
        }
        return url
    }
}
