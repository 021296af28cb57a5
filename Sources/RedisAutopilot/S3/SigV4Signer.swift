import Foundation
import Glibc

/// An AWS access key. The secret is kept out of `description`, `dump` and
/// every error: printing the credentials shows the key ID only.
struct SigV4Credentials: Sendable, CustomStringConvertible, CustomReflectable {
    let accessKeyID: String
    let secretAccessKey: String
    /// Temporary credentials (STS, instance roles) come with a token that
    /// travels as `x-amz-security-token`.
    let sessionToken: String?

    init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    var description: String { "access key \(accessKeyID)" }

    var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID], displayStyle: .struct)
    }
}

/// Everything the signer computed for one request, kept so that tests can
/// compare each step with AWS's published intermediate values.
struct SigV4Signature: Sendable, Equatable {
    let canonicalRequest: String
    let stringToSign: String
    /// Lowercase hex.
    let signature: String
    let authorization: String
}

/// AWS Signature Version 4 in the `Authorization` header.
///
/// The caller gives the path already encoded as it goes on the wire (S3
/// encodes each key segment once; see `SigV4Encoding.path`), the query
/// unencoded, the headers to sign (at least `Host`) and the hex SHA-256 of
/// the payload. Every header given is signed.
struct SigV4Signer: Sendable {
    static let algorithm = "AWS4-HMAC-SHA256"
    /// The hex SHA-256 of no bytes: the payload hash of a GET or DELETE.
    static let emptyPayloadHash = SHA256.hexDigest([UInt8]())

    let credentials: SigV4Credentials
    let region: String
    let service: String
    private let clock: @Sendable () -> Date

    init(credentials: SigV4Credentials, region: String, service: String,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.clock = clock
    }

    /// Sets `X-Amz-Date`, `X-Amz-Security-Token` (with temporary
    /// credentials) and `Authorization` in `headers`, and returns the steps.
    @discardableResult
    func sign(method: String, encodedPath: String, query: [(String, String)],
                     headers: inout HTTPHeaders, payloadHash: String) -> SigV4Signature {
        let timestamp = SigV4Timestamp(clock())
        headers.remove("Authorization")
        headers.set("X-Amz-Date", timestamp.dateTime)
        if let token = credentials.sessionToken {
            headers.set("X-Amz-Security-Token", token)
        }

        let canonicalHeaders = Self.canonicalHeaders(headers)
        let signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            method.uppercased(),
            encodedPath,
            Self.canonicalQuery(query),
            canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")

        let scope = "\(timestamp.date)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            Self.algorithm,
            timestamp.dateTime,
            scope,
            SHA256.hexDigest(canonicalRequest),
        ].joined(separator: "\n")

        let signature = Hex.encode(HMACSHA256.authenticationCode(for: stringToSign, key: signingKey(date: timestamp.date)))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.set("Authorization", authorization)
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                              signature: signature, authorization: authorization)
    }

    /// The query as SigV4 signs it and as it is sent: names and values
    /// encoded, pairs sorted by name then value, a name without value as `name=`.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { pair in
            (name: SigV4Encoding.component(pair.0), value: SigV4Encoding.component(pair.1))
        }
        let sorted = encoded.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Lowercased names, sorted; values trimmed with inner runs of spaces
    /// collapsed; repeated fields joined with commas in the order given.
    static func canonicalHeaders(_ headers: HTTPHeaders) -> [(name: String, value: String)] {
        var values: [String: [String]] = [:]
        for field in headers where field.name.lowercased() != "authorization" {
            values[field.name.lowercased(), default: []].append(trimAll(field.value))
        }
        return values.keys.sorted().map { (name: $0, value: values[$0, default: []].joined(separator: ",")) }
    }

    private static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    private func signingKey(date: String) -> [UInt8] {
        let dateKey = HMACSHA256.authenticationCode(for: date, key: Array("AWS4\(credentials.secretAccessKey)".utf8))
        let regionKey = HMACSHA256.authenticationCode(for: region, key: dateKey)
        let serviceKey = HMACSHA256.authenticationCode(for: service, key: regionKey)
        return HMACSHA256.authenticationCode(for: "aws4_request", key: serviceKey)
    }
}

/// The URI encoding SigV4 prescribes: every byte but the unreserved
/// `A-Z a-z 0-9 - . _ ~` as `%XY` with uppercase hex, UTF-8 for the rest.
enum SigV4Encoding {
    /// A query name or value, or a single path segment: `/` is encoded.
    static func component(_ text: String) -> String {
        PercentEncoding.encode(text)
    }

    /// An S3 object path: each segment encoded once, the slashes kept.
    static func path(_ text: String) -> String {
        PercentEncoding.encode(text, keepingSlash: true)
    }
}

/// The two forms of the signing time: `20150830T123600Z` and `20150830`, in UTC.
struct SigV4Timestamp {
    let dateTime: String
    let date: String

    init(_ instant: Date) {
        var seconds = time_t(instant.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        date = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))"
        dateTime = "\(date)T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}
