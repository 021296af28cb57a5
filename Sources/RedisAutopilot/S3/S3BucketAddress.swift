import Glibc

/// Where the requests for one bucket go: the address the transport connects
/// to and the path of each object on it.
struct S3BucketAddress: Equatable {
    /// The transport's address; with virtual-host style its host names the bucket.
    let baseURL: HTTPBaseURL
    let style: S3AddressingStyle
    let bucket: String

    /// `endpoint` nil means AWS: `https://s3.<region>.amazonaws.com`.
    /// Virtual-host style falls back to path style for a bucket whose name
    /// cannot be one host name label (a dot breaks AWS's wildcard
    /// certificate, and S3 keeps path style for those buckets).
    init(endpoint: HTTPBaseURL?, region: String, bucket: String, style: S3AddressingStyle) throws {
        guard Self.isValidBucketName(bucket) else {
            throw S3Error.invalidConfiguration("bucket name \(String(reflecting: bucket)) is not 3 to 63 of a-z, 0-9, '.', '-' and '_', starting and ending with a letter or digit")
        }
        let server: HTTPBaseURL
        if let endpoint {
            server = endpoint
        } else {
            guard !region.isEmpty, region.utf8.allSatisfy({ Self.isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
                throw S3Error.invalidConfiguration("region \(String(reflecting: region)) is not an AWS region name")
            }
            server = HTTPBaseURL(scheme: .https, host: "s3.\(region).amazonaws.com")
        }
        let resolved: S3AddressingStyle = style == .virtual && Self.isHostLabel(bucket) ? .virtual : .path
        if resolved == .virtual && Self.isIPAddress(server.host) {
            throw S3Error.invalidConfiguration("virtual-host addressing needs a host name, the endpoint is the address \(server.host)")
        }
        self.bucket = bucket
        self.style = resolved
        if resolved == .virtual {
            baseURL = HTTPBaseURL(scheme: server.scheme, host: "\(bucket).\(server.host)", port: server.port,
                                  pathPrefix: server.pathPrefix)
        } else {
            baseURL = server
        }
    }

    /// The request path of an object, or of the bucket itself when `key` is
    /// nil, encoded as it goes on the wire (the endpoint's own path prefix
    /// is added by the transport).
    func path(forKey key: String?) -> String {
        switch (style, key) {
        case let (.virtual, key?): return "/" + SigV4Encoding.path(key)
        case (.virtual, nil): return "/"
        case let (_, key?): return "/\(bucket)/" + SigV4Encoding.path(key)
        case (_, nil): return "/\(bucket)"
        }
    }

    /// The path SigV4 signs: what the server sees, prefix included.
    func canonicalPath(forKey key: String?) -> String {
        baseURL.pathPrefix + path(forKey: key)
    }

    /// S3's rules for new buckets, plus `_` which older buckets may have.
    static func isValidBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last,
              isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
            && !name.contains("..")
    }

    /// `_` is no host name character either.
    private static func isHostLabel(_ bucket: String) -> Bool {
        bucket.utf8.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
