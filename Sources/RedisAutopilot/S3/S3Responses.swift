import Foundation
import Glibc

/// The `<Error>` document S3 answers a failed request with.
struct S3ErrorDetails: Sendable, Equatable, CustomStringConvertible {
    var code: String
    var message: String
    var requestID: String?
    /// Where the bucket really is, when S3 says (a wrong region or endpoint).
    var region: String?
    var endpoint: String?

    init(code: String, message: String, requestID: String? = nil, region: String? = nil, endpoint: String? = nil) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.region = region
        self.endpoint = endpoint
    }

    /// Only the fields S3 documents for every error: a signature error's
    /// `StringToSign` and `CanonicalRequest` are left out of logs.
    init(element: S3XMLElement) throws {
        guard element.name == "Error" else { throw S3XMLError.unexpected("root is <\(element.name)>, not <Error>") }
        code = try element.requiredText(of: "Code")
        message = element.text(of: "Message") ?? ""
        requestID = element.text(of: "RequestId")
        region = element.text(of: "Region")
        endpoint = element.text(of: "Endpoint")
    }

    var description: String {
        var text = message.isEmpty ? code : "\(code): \(message)"
        if let region { text += " (bucket region \(region))" }
        if let endpoint { text += " (use endpoint \(endpoint))" }
        if let requestID { text += " [request ID \(requestID)]" }
        return text
    }
}

/// One object of a ListObjectsV2 page.
struct S3ListedObject: Equatable {
    var key: String
    var size: Int
    var modified: Date?
}

/// A ListObjectsV2 answer: `<ListBucketResult>`.
struct S3ListPage: Equatable {
    var objects: [S3ListedObject]
    /// Present when more pages follow.
    var nextContinuationToken: String?

    init(element: S3XMLElement) throws {
        guard element.name == "ListBucketResult" else {
            throw S3XMLError.unexpected("root is <\(element.name)>, not <ListBucketResult>")
        }
        objects = try element.children("Contents").map { contents in
            let sizeText = try contents.requiredText(of: "Size")
            guard let size = Int(sizeText), size >= 0 else { throw S3XMLError.unexpected("object size \(sizeText)") }
            let modified = try contents.text(of: "LastModified").map(S3Timestamp.parse)
            return S3ListedObject(key: try contents.requiredText(of: "Key"), size: size, modified: modified)
        }
        let truncated = element.text(of: "IsTruncated") ?? "false"
        guard truncated == "true" || truncated == "false" else { throw S3XMLError.unexpected("IsTruncated \(truncated)") }
        if truncated == "true" {
            guard let token = element.text(of: "NextContinuationToken"), !token.isEmpty else {
                throw S3XMLError.unexpected("a truncated listing without NextContinuationToken")
            }
            nextContinuationToken = token
        } else {
            nextContinuationToken = nil
        }
    }
}

/// A multipart upload that was started and neither completed nor aborted:
/// S3 keeps (and bills) its parts until it is aborted.
struct S3IncompleteUpload: Equatable {
    var key: String
    var uploadID: String
}

/// A ListMultipartUploads answer: `<ListMultipartUploadsResult>`.
struct S3IncompleteUploadsPage: Equatable {
    var uploads: [S3IncompleteUpload]
    /// The markers of the next page, when more follow.
    var next: (keyMarker: String, uploadIDMarker: String)?

    init(element: S3XMLElement) throws {
        guard element.name == "ListMultipartUploadsResult" else {
            throw S3XMLError.unexpected("root is <\(element.name)>, not <ListMultipartUploadsResult>")
        }
        uploads = try element.children("Upload").map {
            S3IncompleteUpload(key: try $0.requiredText(of: "Key"), uploadID: try $0.requiredText(of: "UploadId"))
        }
        if element.text(of: "IsTruncated") == "true" {
            next = (try element.requiredText(of: "NextKeyMarker"), try element.requiredText(of: "NextUploadIdMarker"))
        } else {
            next = nil
        }
    }

    static func == (lhs: S3IncompleteUploadsPage, rhs: S3IncompleteUploadsPage) -> Bool {
        lhs.uploads == rhs.uploads && lhs.next?.keyMarker == rhs.next?.keyMarker
            && lhs.next?.uploadIDMarker == rhs.next?.uploadIDMarker
    }
}

/// `<InitiateMultipartUploadResult>`: the upload ID every later call names.
func s3UploadID(from element: S3XMLElement) throws -> String {
    guard element.name == "InitiateMultipartUploadResult" else {
        throw S3XMLError.unexpected("root is <\(element.name)>, not <InitiateMultipartUploadResult>")
    }
    let uploadID = try element.requiredText(of: "UploadId")
    guard !uploadID.isEmpty else { throw S3XMLError.unexpected("empty UploadId") }
    return uploadID
}

/// The timestamps of S3 listings: `2009-10-12T17:50:30.000Z`, with or
/// without the fraction, always UTC.
enum S3Timestamp {
    static func parse(_ text: String) throws -> Date {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) throws -> Int32 {
            guard range.upperBound <= bytes.count else { throw S3XMLError.unexpected("timestamp \(text)") }
            var value: Int32 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                    throw S3XMLError.unexpected("timestamp \(text)")
                }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"),
              separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue }) else {
            throw S3XMLError.unexpected("timestamp \(text)")
        }
        var fraction = 0.0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 21, bytes.count <= 30 else {
                throw S3XMLError.unexpected("timestamp \(text)")
            }
            fraction = Double(try number(20..<(bytes.count - 1))) / pow(10, Double(bytes.count - 21))
        }
        var parts = tm()
        parts.tm_year = try number(0..<4) - 1900
        parts.tm_mon = try number(5..<7) - 1
        parts.tm_mday = try number(8..<10)
        parts.tm_hour = try number(11..<13)
        parts.tm_min = try number(14..<16)
        parts.tm_sec = try number(17..<19)
        guard (0...11).contains(parts.tm_mon), (1...31).contains(parts.tm_mday), (0...23).contains(parts.tm_hour),
              (0...59).contains(parts.tm_min), (0...60).contains(parts.tm_sec) else {
            throw S3XMLError.unexpected("timestamp \(text)")
        }
        return Date(timeIntervalSince1970: Double(timegm(&parts)) + fraction)
    }
}
