/// How bucket names go into request URLs.
enum S3AddressingStyle: String, Sendable, Equatable {
    /// `https://endpoint/bucket/key`: what most S3-compatible servers expect.
    case path
    /// `https://bucket.endpoint/key`: what AWS prefers.
    case virtual
}

/// Amazon S3 or a compatible server.
struct S3Settings: Sendable, Equatable {
    /// `AWS_ACCESS_KEY_ID`
    var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY` (secret)
    var secretAccessKey: String
    /// `AWS_SESSION_TOKEN` (secret), for temporary credentials.
    var sessionToken: String?
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    var region: String
    /// `AWS_ENDPOINT_URL_S3`: nil means AWS itself.
    var endpoint: HTTPBaseURL?
    /// `S3_BUCKET`
    var bucket: String
    /// `S3_PREFIX`: put verbatim before every object name.
    var prefix: String
    /// `S3_ADDRESSING_STYLE`, with auto resolved.
    var addressingStyle: S3AddressingStyle
    /// `S3_PART_SIZE`: bytes per multipart upload part.
    var partSize: Int

    /// S3's limits on a part of a multipart upload (the last part may be smaller).
    static let partSizeRange = (5 << 20)...(5 << 30)

    static func read(from reader: inout EnvironmentReader, requiredBecause reason: String?) -> S3Settings? {
        let accessKeyID = reader.optional("AWS_ACCESS_KEY_ID") { text throws(InvalidValue) in
            try ValueParsers.name(text, extraCharacters: "_.-+/=", what: "an access key ID")
        }
        let secretAccessKey = reader.optional("AWS_SECRET_ACCESS_KEY") { text throws(InvalidValue) in
            try ValueParsers.printable(text, what: "a secret access key")
        }
        let sessionToken = reader.optional("AWS_SESSION_TOKEN") { text throws(InvalidValue) in
            try ValueParsers.printable(text, what: "a session token")
        }
        let region = reader.optional("AWS_REGION", regionName) ?? reader.optional("AWS_DEFAULT_REGION", regionName) ?? "us-east-1"
        let endpoint = reader.optional("AWS_ENDPOINT_URL_S3") { text throws(InvalidValue) in
            try NetworkAddressText.httpBaseURL(text, allowsBareHostPort: false)
        }
        let bucket = reader.optional("S3_BUCKET", bucketName)
        let prefix = reader.value("S3_PREFIX", default: "") { text throws(InvalidValue) in
            try ValueParsers.printable(text, what: "an object name prefix")
        }
        let addressingStyle = reader.value("S3_ADDRESSING_STYLE", default: endpoint == nil ? .virtual : .path) { text throws(InvalidValue) in
            try ValueParsers.choice(text, [
                "auto": endpoint == nil ? S3AddressingStyle.virtual : .path, "path": .path, "virtual": .virtual,
            ])
        }
        let partSize = reader.value("S3_PART_SIZE", default: 16 << 20) { text throws(InvalidValue) in
            try ValueParsers.byteSize(text, in: partSizeRange)
        }

        if let reason {
            for name in ["S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] where !reader.isSet(name) {
                reader.reportMissing(name, because: reason)
            }
        }
        guard let accessKeyID, let secretAccessKey, let bucket else { return nil }
        return S3Settings(
            accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken, region: region,
            endpoint: endpoint, bucket: bucket, prefix: prefix, addressingStyle: addressingStyle, partSize: partSize
        )
    }

    private static func regionName(_ text: String) throws(InvalidValue) -> String {
        guard text.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
            throw InvalidValue(expected: "a region name of lower-case letters, digits and hyphens (such as us-east-1)")
        }
        return text
    }

    /// S3's rules for new buckets: 3 to 63 lower-case letters, digits, dots
    /// and hyphens, starting and ending with a letter or digit.
    private static func bucketName(_ text: String) throws(InvalidValue) -> String {
        let invalid = InvalidValue(expected: "a bucket name of 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit")
        let scalars = Array(text.unicodeScalars)
        let isLowerAlphanumeric = { (scalar: Unicode.Scalar) in ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) }
        guard (3...63).contains(scalars.count),
              let first = scalars.first, let last = scalars.last,
              isLowerAlphanumeric(first), isLowerAlphanumeric(last),
              scalars.allSatisfy({ isLowerAlphanumeric($0) || $0 == "." || $0 == "-" })
        else { throw invalid }
        return text
    }
}
