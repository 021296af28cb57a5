/// What went wrong talking to S3. `operation` is the S3 API call
/// (`PutObject`, `UploadPart 3`, ...), `key` the object key with its prefix.
/// No case carries a header, so a signature or a secret cannot leak through one.
enum S3Error: Error, CustomStringConvertible {
    case invalidConfiguration(String)
    /// S3 answered with an `<Error>` document.
    case service(operation: String, key: String?, status: Int, details: S3ErrorDetails)
    /// An error status without a readable `<Error>` document (a HEAD has no body).
    case status(operation: String, key: String?, status: Int, reason: String, requestID: String?)
    case malformedResponse(operation: String, key: String?, reason: String)
    /// The request did not get an answer: connection, timeout, TLS.
    case transport(operation: String, key: String?, cause: Error)
    /// S3 accepts at most 10,000 parts in one upload.
    case tooManyParts(key: String, partSize: Int)
    /// The upload failed, and aborting it failed too: its parts stay stored
    /// (and billed) until aborted or expired by a lifecycle rule.
    case abortFailed(key: String, uploadID: String, failure: Error, abortFailure: Error)

    /// The status S3 answered with, if it answered.
    var httpStatus: Int? {
        switch self {
        case let .service(_, _, status, _), let .status(_, _, status, _, _): return status
        default: return nil
        }
    }

    /// S3's error code (`NoSuchKey`, `SignatureDoesNotMatch`), if it sent one.
    var code: String? {
        if case let .service(_, _, _, details) = self { return details.code }
        return nil
    }

    var description: String {
        switch self {
        case let .invalidConfiguration(reason):
            return "invalid S3 configuration: \(reason)"
        case let .service(operation, key, status, details):
            return "S3 \(operation)\(Self.on(key)) answered HTTP \(status) \(details)"
        case let .status(operation, key, status, reason, requestID):
            let request = requestID.map { " [request ID \($0)]" } ?? ""
            return "S3 \(operation)\(Self.on(key)) answered HTTP \(status) \(reason)\(request)"
        case let .malformedResponse(operation, key, reason):
            return "S3 \(operation)\(Self.on(key)) gave an unreadable answer: \(reason)"
        case let .transport(operation, key, cause):
            return "S3 \(operation)\(Self.on(key)) failed: \(cause)"
        case let .tooManyParts(key, partSize):
            return "upload of \(key) needs more than \(S3Multipart.maximumPartCount) parts of \(partSize) bytes; raise the part size"
        case let .abortFailed(key, uploadID, failure, abortFailure):
            return "\(failure); aborting multipart upload \(uploadID) of \(key) failed too (its parts stay stored until aborted or expired): \(abortFailure)"
        }
    }

    private static func on(_ key: String?) -> String {
        key.map { " of \($0)" } ?? ""
    }
}
