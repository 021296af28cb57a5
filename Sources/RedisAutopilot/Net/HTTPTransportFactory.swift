/// The transport for an address: our own HTTP/1.1 client for http:// (no
/// TLS needed, every timeout under our control), URLSession for https://.
public func makeHTTPTransport(baseURL: HTTPBaseURL) -> HTTPTransport {
    switch baseURL.scheme {
    case .http:
        return HTTPClient(baseURL: baseURL)
    case .https:
        return URLSessionTransport(baseURL: baseURL)
    }
}
