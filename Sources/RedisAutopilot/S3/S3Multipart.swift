/// One multipart upload: CreateMultipartUpload, then UploadPart for each
/// part, then CompleteMultipartUpload with the parts' ETags, or
/// AbortMultipartUpload when anything fails, so no parts stay stored.
struct S3Multipart {
    static let minimumPartSize = 5 * 1024 * 1024
    static let maximumPartSize = 5 * 1024 * 1024 * 1024
    static let maximumPartCount = 10_000

    let client: S3Client
    let key: String
    let uploadID: String
    let partSize: Int
    private var etags: [String] = []

    /// Starts the upload; the object's Content-Type is given here.
    static func start(client: S3Client, key: String, partSize: Int, contentType: String) throws -> S3Multipart {
        var request = S3Request(operation: "CreateMultipartUpload", method: "POST", key: key, query: [("uploads", "")])
        request.headers.set("Content-Type", contentType)
        let response = try client.send(request)
        let uploadID = try client.parse(response, of: request, as: s3UploadID)
        return S3Multipart(client: client, key: key, uploadID: uploadID, partSize: partSize)
    }

    private init(client: S3Client, key: String, uploadID: String, partSize: Int) {
        self.client = client
        self.key = key
        self.uploadID = uploadID
        self.partSize = partSize
    }

    mutating func upload(part bytes: [UInt8]) throws {
        let number = etags.count + 1
        guard number <= Self.maximumPartCount else {
            throw S3Error.tooManyParts(key: key, partSize: partSize)
        }
        var request = S3Request(operation: "UploadPart \(number)", method: "PUT", key: key,
                                query: [("partNumber", String(number)), ("uploadId", uploadID)], body: bytes)
        request.sendsContentMD5 = true
        let response = try client.send(request)
        guard let etag = response.headers["ETag"], !etag.isEmpty else {
            throw S3Error.malformedResponse(operation: request.operation, key: key, reason: "no ETag header")
        }
        etags.append(etag)
    }

    func complete() throws {
        var request = S3Request(operation: "CompleteMultipartUpload", method: "POST", key: key,
                                query: [("uploadId", uploadID)], body: Array(completionDocument().utf8))
        request.headers.set("Content-Type", "application/xml")
        request.sendsContentMD5 = true
        let response = try client.send(request)
        // S3 answers 200 as soon as it starts combining the parts; a failure
        // found after that comes as an <Error> document in the 200's body.
        // Any other document is success: servers name its root differently
        // (AWS `CompleteMultipartUploadResult`, moto `...Response`).
        let element = try client.parse(response, of: request) { $0 }
        if element.name == "Error" {
            let details = try client.parse(response, of: request, as: S3ErrorDetails.init(element:))
            throw S3Error.service(operation: request.operation, key: key, status: response.status, details: details)
        }
    }

    func abort() throws {
        let request = S3Request(operation: "AbortMultipartUpload", method: "DELETE", key: key, query: [("uploadId", uploadID)])
        _ = try client.send(request)
    }

    func completionDocument() -> String {
        var document = #"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
        for (index, etag) in etags.enumerated() {
            document += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(s3XMLEscape(etag))</ETag></Part>"
        }
        return document + "</CompleteMultipartUpload>"
    }

    /// The part size for an upload: the configured size, raised when the
    /// announced length would need more than 10,000 parts.
    static func partSize(configured: Int, length: Int?) -> Int {
        guard let length, length > configured * maximumPartCount else { return configured }
        let mebibyte = 1024 * 1024
        let needed = length / maximumPartCount + (length % maximumPartCount == 0 ? 0 : 1)
        return min(maximumPartSize, (needed + mebibyte - 1) / mebibyte * mebibyte)
    }
}
