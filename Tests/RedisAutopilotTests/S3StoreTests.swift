import Foundation
import XCTest
@testable import RedisAutopilot

/// Records every request with the body bytes that were really sent, and
/// answers from a script. Lets the tests check what no S3 server here
/// checks: that `x-amz-content-sha256` is the hash of the body sent.
final class S3RecordingTransport: HTTPTransport {
    struct Sent {
        var request: HTTPRequest
        var body: [UInt8]
        var path: String { String(request.target.prefix { $0 != "?" }) }
        var query: String { request.target.contains("?") ? String(request.target.drop { $0 != "?" }.dropFirst()) : "" }
    }

    var sent: [Sent] = []
    var answer: (Sent) -> HTTPResponse

    init(answer: @escaping (Sent) -> HTTPResponse) {
        self.answer = answer
    }

    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        try record(request)
    }

    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        var response = try record(request)
        if (200...299).contains(response.status) {
            try sink.write(response.body)
            response.body = []
        }
        return response
    }

    private func record(_ request: HTTPRequest) throws -> HTTPResponse {
        var body: [UInt8] = []
        switch request.body {
        case .empty: break
        case let .bytes(bytes): body = bytes
        case let .stream(_, source):
            while case let piece = try source.read(maxBytes: 65536), !piece.isEmpty { body += piece }
        }
        let entry = Sent(request: request, body: body)
        sent.append(entry)
        return answer(entry)
    }

    /// A minimal S3: multipart calls succeed, everything else answers 200.
    static func succeeding() -> S3RecordingTransport {
        S3RecordingTransport { sent in
            if sent.query == "uploads=" {
                return HTTPResponse(status: 200, body: Array("<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>".utf8))
            }
            if sent.query.hasPrefix("partNumber=") {
                let number = sent.query.dropFirst("partNumber=".count).prefix { $0 != "&" }
                return HTTPResponse(status: 200, headers: HTTPHeaders([("ETag", "\"etag-\(number)\"")]))
            }
            if sent.request.method == "POST" {
                return HTTPResponse(status: 200, body: Array("<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>".utf8))
            }
            return HTTPResponse(status: 200)
        }
    }
}

/// A source of `count` deterministic bytes, handed out in uneven pieces;
/// throws `failure` once `failAfter` bytes were given, if set.
final class S3PatternSource: ByteSource {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "the source broke" }
    }

    let count: Int
    let failAfter: Int?
    private(set) var given = 0

    init(count: Int, failAfter: Int? = nil) {
        self.count = count
        self.failAfter = failAfter
    }

    /// A prime length, so that parts and pattern never line up.
    private static let pattern: [UInt8] = (0..<1_048_573).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }

    static func bytes(_ count: Int, from start: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var index = start % pattern.count
        while out.count < count {
            let end = min(pattern.count, index + count - out.count)
            out += pattern[index..<end]
            index = end == pattern.count ? 0 : end
        }
        return out
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        if let failAfter, given >= failAfter { throw Failure() }
        // Uneven pieces: a store must not assume full reads.
        var size = min(maxBytes, count - given, 1 + (given % 7919) * 9)
        if let failAfter { size = min(size, failAfter - given) }
        let piece = Self.bytes(size, from: given)
        given += size
        return piece
    }
}

final class S3StoreTests: XCTestCase {
    private static let credentials = SigV4Credentials(accessKeyID: "AKIDTEST", secretAccessKey: "very-secret-value")
    private static let mebibyte = 1024 * 1024

    private func makeStore(_ transport: S3RecordingTransport, prefix: String = "backups/",
                           partSize: Int = 5 * 1024 * 1024) throws -> S3Store {
        let configuration = S3StoreConfiguration(endpoint: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 9000), region: "us-east-1", bucket: "bucket",
                                                 prefix: prefix, credentials: Self.credentials, partSize: partSize)
        return try S3Store(configuration: configuration, transportFactory: { _ in transport })
    }

    private func assertBodyMatchesItsHashes(_ sent: S3RecordingTransport.Sent, file: StaticString = #filePath, line: UInt = #line) {
        let headers = sent.request.headers
        XCTAssertEqual(headers["x-amz-content-sha256"], SHA256.hexDigest(sent.body), "\(sent.request.method) \(sent.request.target)", file: file, line: line)
        XCTAssertEqual(sent.request.headers["Host"], "127.0.0.1:9000", file: file, line: line)
        if ["PUT", "POST"].contains(sent.request.method) {
            XCTAssertNotNil(headers["Content-Type"], "\(sent.request.method) \(sent.request.target) has no Content-Type", file: file, line: line)
        }
        if let md5 = headers["Content-MD5"] {
            XCTAssertEqual(md5, Data(MD5.digest(sent.body)).base64EncodedString(), file: file, line: line)
        }
        let authorization = headers["Authorization"] ?? ""
        XCTAssertTrue(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTEST/"), authorization, file: file, line: line)
        XCTAssertTrue(authorization.contains("x-amz-content-sha256"), "the payload hash must be signed", file: file, line: line)
    }

    func testSmallPutIsOnePutObjectWithHashesOfTheBodySent() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport)
        try store.put(name: "a.rdb.gz", from: S3PatternSource(count: 100_000), length: 100_000)

        XCTAssertEqual(transport.sent.count, 1)
        let put = try XCTUnwrap(transport.sent.first)
        XCTAssertEqual(put.request.method, "PUT")
        XCTAssertEqual(put.request.target, "/bucket/backups/a.rdb.gz")
        XCTAssertEqual(put.body, S3PatternSource.bytes(100_000))
        XCTAssertEqual(put.request.headers["Content-Type"], "application/gzip")
        XCTAssertNotNil(put.request.headers["Content-MD5"])
        assertBodyMatchesItsHashes(put)
    }

    func testEmptyAndUnknownLengthObjectsThatFitOnePartAreOnePutObject() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport, prefix: "")
        try store.put(name: "empty", from: S3PatternSource(count: 0), length: 0)
        try store.put(name: "exact", from: S3PatternSource(count: 5 * Self.mebibyte), length: nil)

        XCTAssertEqual(transport.sent.map(\.request.method), ["PUT", "PUT"])
        XCTAssertEqual(transport.sent.map(\.request.target), ["/bucket/empty", "/bucket/exact"])
        XCTAssertEqual(transport.sent[0].body, [])
        XCTAssertEqual(transport.sent[0].request.headers["x-amz-content-sha256"], SigV4Signer.emptyPayloadHash)
        XCTAssertEqual(transport.sent[1].body.count, 5 * Self.mebibyte)
        transport.sent.forEach { assertBodyMatchesItsHashes($0) }
    }

    func testLargeStreamIsUploadedInPartsEachWithItsOwnHashes() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport)
        let total = 5 * Self.mebibyte + 3
        try store.put(name: "big", from: S3PatternSource(count: total), length: nil)

        XCTAssertEqual(transport.sent.map(\.request.method), ["POST", "PUT", "PUT", "POST"])
        XCTAssertEqual(transport.sent.map(\.query), [
            "uploads=", "partNumber=1&uploadId=up-1", "partNumber=2&uploadId=up-1", "uploadId=up-1",
        ])
        XCTAssertEqual(transport.sent[0].request.headers["Content-Type"], "application/gzip")
        let parts = transport.sent[1...2]
        XCTAssertEqual(parts.map(\.body.count), [5 * Self.mebibyte, 3])
        XCTAssertEqual(Array(parts.map(\.body).joined()), S3PatternSource.bytes(total))
        for part in parts { XCTAssertNotNil(part.request.headers["Content-MD5"]) }
        transport.sent.forEach { assertBodyMatchesItsHashes($0) }

        let completion = try S3XMLElement.parse(transport.sent[3].body)
        XCTAssertEqual(completion.name, "CompleteMultipartUpload")
        XCTAssertEqual(completion.children("Part").map { $0.text(of: "PartNumber") }, ["1", "2"])
        XCTAssertEqual(completion.children("Part").map { $0.text(of: "ETag") }, ["\"etag-1\"", "\"etag-2\""])
    }

    func testFailingSourceAbortsTheUpload() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport)
        XCTAssertThrowsError(try store.put(name: "broken", from: S3PatternSource(count: 20 * Self.mebibyte, failAfter: 5 * Self.mebibyte + 100), length: nil)) { error in
            guard case let BackupStoreError.failed(_, name, operation, cause) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "broken")
            XCTAssertEqual(operation, "put")
            XCTAssertTrue(cause is S3PatternSource.Failure, "\(cause)")
        }
        XCTAssertEqual(transport.sent.map(\.request.method), ["POST", "PUT", "DELETE"])
        XCTAssertEqual(transport.sent.last?.query, "uploadId=up-1")
    }

    func testCompletionAnswering200WithAnErrorDocumentIsAnErrorAndAborts() throws {
        let base = S3RecordingTransport.succeeding()
        let transport = S3RecordingTransport { sent in
            if sent.request.method == "POST" && sent.query == "uploadId=up-1" {
                return HTTPResponse(status: 200, body: Array("""
                    <?xml version="1.0" encoding="UTF-8"?>

                    <Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>
                    """.utf8))
            }
            return base.answer(sent)
        }
        let store = try makeStore(transport)
        XCTAssertThrowsError(try store.put(name: "big", from: S3PatternSource(count: 5 * Self.mebibyte + 1), length: 5 * Self.mebibyte + 1)) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error, let s3 = cause as? S3Error else { return XCTFail("\(error)") }
            XCTAssertEqual(s3.code, "InternalError")
            XCTAssertEqual(s3.httpStatus, 200)
            XCTAssertTrue("\(error)".contains("656c76696e6727732072657175657374"), "\(error)")
        }
        XCTAssertEqual(transport.sent.last?.request.method, "DELETE")
    }

    func testAFailedAbortIsReportedWithTheOriginalFailure() throws {
        let base = S3RecordingTransport.succeeding()
        let transport = S3RecordingTransport { sent in
            if sent.query.hasPrefix("partNumber=2") || sent.request.method == "DELETE" {
                return HTTPResponse(status: 503, reason: "Service Unavailable")
            }
            return base.answer(sent)
        }
        let store = try makeStore(transport)
        XCTAssertThrowsError(try store.put(name: "big", from: S3PatternSource(count: 5 * Self.mebibyte + 1), length: nil)) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error,
                  case let S3Error.abortFailed(key, uploadID, failure, _) = cause else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "backups/big")
            XCTAssertEqual(uploadID, "up-1")
            XCTAssertEqual((failure as? S3Error)?.httpStatus, 503)
            XCTAssertTrue("\(error)".contains("UploadPart 2"), "\(error)")
        }
    }

    func testAnnouncedLengthIsEnforcedBeforeAnythingIsStored() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport)
        XCTAssertThrowsError(try store.put(name: "short", from: S3PatternSource(count: 10), length: 11)) { error in
            guard case let BackupStoreError.lengthMismatch(_, _, expected, actual) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(expected, 11)
            XCTAssertEqual(actual, 10)
        }
        XCTAssertTrue(transport.sent.isEmpty)

        XCTAssertThrowsError(try store.put(name: "long", from: S3PatternSource(count: 5 * Self.mebibyte + 2), length: 5 * Self.mebibyte + 1)) { error in
            guard case BackupStoreError.lengthMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(transport.sent.map(\.request.method), ["POST", "PUT", "DELETE"], "the upload is aborted, never completed")
    }

    func testServiceErrorsAreParsedAndNeverShowTheSecretOrSignature() throws {
        let transport = S3RecordingTransport { _ in
            HTTPResponse(status: 403, reason: "Forbidden", body: Array("""
                <?xml version="1.0" encoding="UTF-8"?>
                <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><AWSAccessKeyId>AKIDTEST</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 stuff</StringToSign><RequestId>REQ123</RequestId></Error>
                """.utf8))
        }
        let store = try makeStore(transport)
        XCTAssertThrowsError(try store.get(name: "x", into: S3CollectingSink())) { error in
            guard case let BackupStoreError.failed(_, name, operation, cause) = error, let s3 = cause as? S3Error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "x")
            XCTAssertEqual(operation, "get")
            XCTAssertEqual(s3.code, "SignatureDoesNotMatch")
            XCTAssertEqual(s3.httpStatus, 403)
            let text = "\(error)"
            XCTAssertTrue(text.contains("REQ123") && text.contains("GetObject of backups/x"), text)
            let signature = transport.sent.first?.request.headers["Authorization"]?.components(separatedBy: "Signature=").last ?? "?"
            for secret in ["very-secret-value", signature, "StringToSign", "AWS4-HMAC-SHA256 stuff"] {
                XCTAssertFalse(text.contains(secret), "\(secret) leaked into \(text)")
            }
        }
        XCTAssertFalse(store.description.contains("very-secret-value"))
        XCTAssertFalse(String(reflecting: store.configuration).contains("very-secret-value"))
    }

    func testMissingObjectsAreNotFound() throws {
        let transport = S3RecordingTransport { sent in
            if sent.request.method == "HEAD" { return HTTPResponse(status: 404, reason: "Not Found") }
            return HTTPResponse(status: 404, body: Array("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>".utf8))
        }
        let store = try makeStore(transport)
        for action in [{ try store.get(name: "gone", into: S3CollectingSink()) }, { try store.delete(name: "gone") }] {
            XCTAssertThrowsError(try action()) { error in
                guard case let BackupStoreError.notFound(_, name) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "gone")
            }
        }
        XCTAssertEqual(transport.sent.map(\.request.method), ["GET", "HEAD"], "nothing is deleted when the HEAD finds nothing")
    }

    func testAMissingBucketIsAFailureNotAMissingBackup() throws {
        let transport = S3RecordingTransport { _ in
            HTTPResponse(status: 404, body: Array("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>".utf8))
        }
        XCTAssertThrowsError(try makeStore(transport).get(name: "x", into: S3CollectingSink())) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error else { return XCTFail("\(error)") }
            XCTAssertEqual((cause as? S3Error)?.code, "NoSuchBucket")
        }
    }

    func testGetStreamsIntoTheSink() throws {
        let content = S3PatternSource.bytes(300_000)
        let transport = S3RecordingTransport { _ in HTTPResponse(status: 200, body: content) }
        let sink = S3CollectingSink()
        try makeStore(transport).get(name: "a", into: sink)
        XCTAssertEqual(sink.bytes, content)
        XCTAssertEqual(transport.sent.map(\.request.target), ["/bucket/backups/a"])
    }

    func testListFollowsContinuationTokensAndKeepsOnlyBackupNamesUnderThePrefix() throws {
        let transport = S3RecordingTransport { sent in
            if !sent.query.contains("continuation-token") {
                return HTTPResponse(status: 200, body: Array("""
                    <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>backups/</Prefix>
                    <Contents><Key>backups/b.gz</Key><LastModified>2024-01-02T03:04:05.500Z</LastModified><ETag>"x"</ETag><Size>12</Size></Contents>
                    <Contents><Key>backups/.hidden</Key><LastModified>2024-01-02T03:04:05Z</LastModified><Size>1</Size></Contents>
                    <CommonPrefixes><Prefix>backups/deeper/</Prefix></CommonPrefixes>
                    <IsTruncated>true</IsTruncated><NextContinuationToken>1/a+b=</NextContinuationToken></ListBucketResult>
                    """.utf8))
            }
            return HTTPResponse(status: 200, body: Array("""
                <ListBucketResult><Contents><Key>backups/a.gz</Key><Size>0</Size></Contents><IsTruncated>false</IsTruncated></ListBucketResult>
                """.utf8))
        }
        let store = try makeStore(transport, prefix: "backups/")
        store.listPageSize = 2
        let objects = try store.list()
        XCTAssertEqual(objects, [
            BackupObject(name: "a.gz", size: 0, modified: nil),
            BackupObject(name: "b.gz", size: 12, modified: Date(timeIntervalSince1970: 1_704_164_645.5)),
        ])
        XCTAssertEqual(transport.sent.map(\.query), [
            "delimiter=%2F&list-type=2&max-keys=2&prefix=backups%2F",
            "continuation-token=1%2Fa%2Bb%3D&delimiter=%2F&list-type=2&max-keys=2&prefix=backups%2F",
        ])
        XCTAssertEqual(transport.sent.map(\.path), ["/bucket", "/bucket"])
    }

    func testMalformedAnswersAreErrorsNotCrashes() throws {
        let answers = [
            "", "not xml", "<ListBucketResult>", "<ListBucketResult><Contents></ListBucketResult>",
            "<Other/>", "<ListBucketResult><Contents><Key>backups/a</Key><Size>-1</Size></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Key>backups/a</Key><Size>99999999999999999999999</Size></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Key>backups/a</Key></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Key>backups/a</Key><Size>1</Size><LastModified>yesterday</LastModified></Contents></ListBucketResult>",
            "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
            "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
            "<ListBucketResult>&undefined;</ListBucketResult>",
            "<a/><b/>",
        ]
        for answer in answers {
            let transport = S3RecordingTransport { _ in HTTPResponse(status: 200, body: Array(answer.utf8)) }
            XCTAssertThrowsError(try makeStore(transport).list(), answer) { error in
                guard case let BackupStoreError.failed(_, nil, "list", cause) = error,
                      case S3Error.malformedResponse = cause else { return XCTFail("\(answer): \(error)") }
            }
        }
        let garbageError = S3RecordingTransport { _ in HTTPResponse(status: 500, reason: "Oops", body: Array("<Error><Code>".utf8)) }
        XCTAssertThrowsError(try makeStore(garbageError).list()) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error,
                  case let S3Error.status(_, _, status, reason, _) = cause else { return XCTFail("\(error)") }
            XCTAssertEqual(status, 500)
            XCTAssertEqual(reason, "Oops")
        }
        let noUploadID = S3RecordingTransport { _ in HTTPResponse(status: 200, body: Array("<InitiateMultipartUploadResult/>".utf8)) }
        XCTAssertThrowsError(try makeStore(noUploadID).put(name: "x", from: S3PatternSource(count: 5 * Self.mebibyte + 1), length: nil)) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error, case S3Error.malformedResponse = cause else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(noUploadID.sent.count, 1, "nothing to abort without an upload ID")
    }

    func testInvalidNamesAndConfigurationsAreRejected() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport)
        for name in ["", "../x", "a/b", ".hidden", "a b"] {
            XCTAssertThrowsError(try store.put(name: name, from: S3PatternSource(count: 1), length: 1)) { error in
                guard case BackupStoreError.invalidName = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertTrue(transport.sent.isEmpty)
        XCTAssertThrowsError(try makeStore(transport, partSize: 5 * Self.mebibyte - 1))
        let bad: [S3StoreConfiguration] = [
            S3StoreConfiguration(region: "us-east-1", bucket: "Bad_Bucket", credentials: Self.credentials),
            S3StoreConfiguration(region: "us east", bucket: "bucket", credentials: Self.credentials),
            S3StoreConfiguration(endpoint: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 9000), region: "us-east-1",
                                 bucket: "bucket", credentials: Self.credentials, addressingStyle: .virtual),
            S3StoreConfiguration(region: "us-east-1", bucket: "bucket", credentials: SigV4Credentials(accessKeyID: "A", secretAccessKey: "")),
            S3StoreConfiguration(region: "us-east-1", bucket: "bucket", credentials: Self.credentials, timeout: 0),
        ]
        for configuration in bad {
            XCTAssertThrowsError(try S3Store(configuration: configuration, transportFactory: { _ in transport })) { error in
                guard case S3Error.invalidConfiguration = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testAnUploadStopsAtTenThousandParts() throws {
        let transport = S3RecordingTransport.succeeding()
        let store = try makeStore(transport)
        var upload = try S3Multipart.start(client: store.client, key: "k", partSize: 5 * Self.mebibyte, contentType: "application/gzip")
        for _ in 1...S3Multipart.maximumPartCount {
            try upload.upload(part: [1])
        }
        XCTAssertEqual(transport.sent.last?.query, "partNumber=10000&uploadId=up-1")
        XCTAssertThrowsError(try upload.upload(part: [1])) { error in
            guard case let S3Error.tooManyParts(key, partSize) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "k")
            XCTAssertEqual(partSize, 5 * Self.mebibyte)
            XCTAssertTrue("\(error)".contains("raise the part size"), "\(error)")
        }
        XCTAssertEqual(transport.sent.count, 1 + S3Multipart.maximumPartCount, "the 10,001st part is never sent")
    }

    func testPartSizeGrowsOnlyWhenTenThousandPartsWouldNotSuffice() {
        let five = 5 * Self.mebibyte
        XCTAssertEqual(S3Multipart.partSize(configured: five, length: nil), five)
        XCTAssertEqual(S3Multipart.partSize(configured: five, length: five * 10_000), five)
        XCTAssertEqual(S3Multipart.partSize(configured: five, length: five * 10_000 + 1), 6 * Self.mebibyte)
        XCTAssertEqual(S3Multipart.partSize(configured: five, length: Int.max), S3Multipart.maximumPartSize)
    }
}

final class S3CollectingSink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ bytes: [UInt8]) throws { self.bytes += bytes }
}
