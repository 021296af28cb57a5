import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

/// moto's S3 server on a free 127.0.0.1 port, checking every request's
/// signature against an IAM user it created for the tests.
///
/// moto checks signatures once `INITIAL_NO_AUTH_ACTION_COUNT` requests have
/// gone by (default: never). It starts with the count at infinity so that
/// the IAM user, its access key and its policy can be made unchecked, then
/// `POST /moto-api/reset-auth 0` sets the count to 0 and resets the request
/// counter: from there on every request is authenticated.
///
/// moto 5 verifies the signature over the URL after Werkzeug decoded it
/// (getmoto/moto#5948), so any key or query with a percent-escape (`a:b`,
/// `prefix=p%2F`) fails for every client, boto3 included. The launcher
/// hands moto's checker the request target as received (`RAW_URI`), as S3
/// itself does; routing is left untouched.
final class MotoS3Server {
    let port: Int
    let credentials: SigV4Credentials
    private let process: Process
    private let directory: String

    init() throws {
        directory = try Self.makeTemporaryDirectory()
        guard let free = try s3FreePorts(1).first else { throw MotoError("no free port") }
        port = free
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The server exits when its stdin closes, that is when this test
        // process exits, even if it dies without tearing down.
        process.arguments = ["python3", "-c", """
            import os, sys, threading
            def watch():
                sys.stdin.buffer.read()
                os._exit(0)
            threading.Thread(target=watch, daemon=True).start()
            from moto.core.responses import BaseResponse
            from moto.core.authorization import ActionAuthenticatorMixin
            setup_class = BaseResponse.setup_class
            # Whatever moto passes on: 5.2.5 made full_url and headers optional, and some of
            # its handlers call setup_class without them.
            def keep_raw_target(self, request, *args, **kwargs):
                setup_class(self, request, *args, **kwargs)
                self.raw_request_target = getattr(request, "environ", {}).get("RAW_URI")
            BaseResponse.setup_class = keep_raw_target
            check = ActionAuthenticatorMixin._authenticate_and_authorize_action
            def check_raw_target(self, iam_request_cls, resource="*"):
                if not getattr(self, "raw_request_target", None):
                    return check(self, iam_request_cls, resource)
                decoded, self.uri = self.uri, "http://signed" + self.raw_request_target
                try:
                    return check(self, iam_request_cls, resource)
                finally:
                    self.uri = decoded
            ActionAuthenticatorMixin._authenticate_and_authorize_action = check_raw_target
            from moto.server import main
            main(["-H", "127.0.0.1", "-p", "\(port)"])
            """]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "inf"
        process.environment = environment
        process.standardInput = Pipe()
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        _ = FileManager.default.createFile(atPath: directory + "/moto.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/moto.log")
        try process.run()
        do {
            try Self.waitUntilServing(port: port, process: process, deadline: .after(seconds: 60))
            credentials = try Self.createUser(port: port)
            let reset = try HTTPClient(baseURL: Self.baseURL(port)).send(
                HTTPRequest(method: "POST", target: "/moto-api/reset-auth", body: .bytes(Array("0".utf8))), timeout: 10)
            guard reset.status == 200 else { throw MotoError("reset-auth answered \(reset.status) \(reset.bodyText)") }
        } catch {
            Self.terminate(process, directory: directory)
            throw error
        }
    }

    deinit { stop() }

    func stop() {
        Self.terminate(process, directory: directory)
    }

    private static func terminate(_ process: Process, directory: String) {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var endpoint: HTTPBaseURL { HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: port) }

    /// The server's log, to explain a failure.
    var log: String { (try? String(contentsOfFile: directory + "/moto.log", encoding: .utf8)) ?? "" }

    func store(bucket: String, prefix: String = "", credentials: SigV4Credentials? = nil, partSize: Int = 5 * 1024 * 1024,
               endpoint: HTTPBaseURL? = nil, style: S3AddressingStyle? = nil,
               transportFactory: @escaping (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0) }) throws -> S3Store {
        let configuration = S3StoreConfiguration(endpoint: endpoint ?? self.endpoint, region: "us-east-1", bucket: bucket, prefix: prefix,
                                                 credentials: credentials ?? self.credentials, addressingStyle: style,
                                                 partSize: partSize, timeout: 30)
        return try S3Store(configuration: configuration, transportFactory: transportFactory)
    }

    /// A new bucket, created with a signed request of ours.
    func makeBucket(_ name: String) throws {
        _ = try store(bucket: name).client.send(S3Request(operation: "CreateBucket", method: "PUT", key: nil))
    }

    struct MotoError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private static func baseURL(_ port: Int) -> HTTPBaseURL {
        HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: port)
    }

    /// IAM's query API, signed for service `iam` (moto routes on the
    /// credential scope); the signature is not checked yet at this point.
    private static func iam(port: Int, _ parameters: [(String, String)]) throws -> S3XMLElement {
        let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyID: "AKIDSETUP", secretAccessKey: "setup"),
                                 region: "us-east-1", service: "iam")
        let body = Array((parameters + [("Version", "2010-05-08")])
            .map { "\(SigV4Encoding.component($0.0))=\(SigV4Encoding.component($0.1))" }.joined(separator: "&").utf8)
        var headers = HTTPHeaders([("Host", "127.0.0.1:\(port)"), ("Content-Type", "application/x-www-form-urlencoded")])
        signer.sign(method: "POST", encodedPath: "/", query: [], headers: &headers, payloadHash: SHA256.hexDigest(body))
        let response = try HTTPClient(baseURL: baseURL(port)).send(
            HTTPRequest(method: "POST", target: "/", headers: headers, body: .bytes(body)), timeout: 30)
        guard response.status == 200 else { throw MotoError("IAM \(parameters.first?.1 ?? "") answered \(response.status): \(response.bodyText)") }
        return try S3XMLElement.parse(response.body)
    }

    private static func createUser(port: Int) throws -> SigV4Credentials {
        _ = try iam(port: port, [("Action", "CreateUser"), ("UserName", "backup")])
        let answer = try iam(port: port, [("Action", "CreateAccessKey"), ("UserName", "backup")])
        guard let key = answer.child("CreateAccessKeyResult")?.child("AccessKey"),
              let id = key.text(of: "AccessKeyId"), let secret = key.text(of: "SecretAccessKey") else {
            throw MotoError("CreateAccessKey gave no key")
        }
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try iam(port: port, [("Action", "PutUserPolicy"), ("UserName", "backup"), ("PolicyName", "s3"), ("PolicyDocument", policy)])
        return SigV4Credentials(accessKeyID: id, secretAccessKey: secret)
    }

    private static func waitUntilServing(port: Int, process: Process, deadline: Deadline) throws {
        let client = HTTPClient(baseURL: baseURL(port))
        while !deadline.hasPassed {
            guard process.isRunning else { throw MotoError("moto_server exited with status \(process.terminationStatus)") }
            if let response = try? client.send(HTTPRequest(method: "GET", target: "/moto-api/data.json"), timeout: 2),
               response.status == 200 {
                return
            }
            usleep(100_000)
        }
        throw MotoError("moto_server did not answer on port \(port) in time")
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/s3-moto-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw MotoError("mkdtemp: \(errno)") }
        return String(cString: path)
    }
}

/// `count` distinct free TCP ports on 127.0.0.1: all are bound at once, so
/// none is handed out twice, then released for the server to take.
func s3FreePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { sockets.forEach { _ = close($0) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoS3Server.MotoError("socket: \(errno)") }
        sockets.append(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw MotoS3Server.MotoError("bind: \(errno)") }
        ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
}

/// Counts requests per method, passing them on: shows that paging or
/// multipart really happened.
final class S3CountingTransport: HTTPTransport {
    let inner: HTTPTransport
    private(set) var targets: [String] = []

    init(_ inner: HTTPTransport) {
        self.inner = inner
    }

    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        targets.append("\(request.method) \(request.target)")
        return try inner.send(request, timeout: timeout)
    }

    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        targets.append("\(request.method) \(request.target)")
        return try inner.send(request, into: sink, timeout: timeout)
    }
}

/// Compares what it receives with the pattern source's bytes as they come.
final class S3PatternCheckingSink: ByteSink {
    private(set) var count = 0
    private(set) var mismatchAt: Int?

    func write(_ bytes: [UInt8]) throws {
        if mismatchAt == nil, bytes != S3PatternSource.bytes(bytes.count, from: count) {
            mismatchAt = count
        }
        count += bytes.count
    }
}

final class S3MotoTests: XCTestCase {
    nonisolated(unsafe) private static var server: MotoS3Server?
    nonisolated(unsafe) private static var startFailure: Error?
    private static let mebibyte = 1024 * 1024
    private var bucketNumber = 0

    override class func setUp() {
        super.setUp()
        do {
            server = try MotoS3Server()
        } catch {
            startFailure = error
        }
    }

    override class func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    private func moto() throws -> MotoS3Server {
        if let server = Self.server { return server }
        throw Self.startFailure ?? MotoS3Server.MotoError("moto_server is not running")
    }

    /// A fresh bucket per test, so tests do not see each other's objects.
    private func freshBucket() throws -> String {
        bucketNumber += 1
        let name = "t-\(name.filter { $0.isLetter || $0.isNumber }.lowercased().suffix(40))-\(bucketNumber)"
        try moto().makeBucket(name)
        return name
    }

    private func roundTrip(_ store: S3Store, name: String, count: Int, announce: Bool,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        try store.put(name: name, from: S3PatternSource(count: count), length: announce ? count : nil)
        let sink = S3PatternCheckingSink()
        try store.get(name: name, into: sink)
        XCTAssertEqual(sink.count, count, name, file: file, line: line)
        XCTAssertNil(sink.mismatchAt, "\(name) differs at byte \(sink.mismatchAt ?? -1)", file: file, line: line)
    }

    func testRoundTripsFromEmptyToMultipart() throws {
        let bucket = try freshBucket()
        let counting = S3CountingTransport(HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: try moto().port)))
        let store = try moto().store(bucket: bucket, prefix: "redis/backups/", transportFactory: { _ in counting })

        try roundTrip(store, name: "empty", count: 0, announce: true)
        try roundTrip(store, name: "one", count: 1, announce: false)
        try roundTrip(store, name: "twelve", count: 12 * Self.mebibyte, announce: true)
        try roundTrip(store, name: "streamed", count: 21 * Self.mebibyte + 12_345, announce: false)

        XCTAssertEqual(try store.list().map(\.name), ["empty", "one", "streamed", "twelve"])
        XCTAssertEqual(try store.list().map(\.size), [0, 1, 21 * Self.mebibyte + 12_345, 12 * Self.mebibyte])
        XCTAssertEqual(counting.targets.filter { $0.contains("partNumber=") }.count, 3 + 5)
        // A multipart object's ETag is "<md5 of the part MD5s>-<part count>".
        let head = try store.client.send(S3Request(operation: "HeadObject", method: "HEAD", key: "redis/backups/twelve"))
        XCTAssertTrue(head.headers["ETag"]?.hasSuffix("-3\"") == true, head.headers["ETag"] ?? "no ETag")
        XCTAssertEqual(try store.incompleteUploads(), [])
    }

    func testListPagesUnderThePrefixOnly() throws {
        let bucket = try freshBucket()
        let motoServer = try moto()
        let counting = S3CountingTransport(HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: motoServer.port)))
        let store = try motoServer.store(bucket: bucket, prefix: "p/", transportFactory: { _ in counting })
        store.listPageSize = 2
        let names = ["a-1.gz", "b:2.gz", "c+3.gz", "d=4.gz", "e@5,6.gz"]
        for (index, name) in names.enumerated() {
            try store.put(name: name, from: S3PatternSource(count: index * 10), length: index * 10)
        }
        try motoServer.store(bucket: bucket, prefix: "other/").put(name: "x", from: S3PatternSource(count: 1), length: 1)
        try motoServer.store(bucket: bucket, prefix: "p/deeper/").put(name: "y", from: S3PatternSource(count: 1), length: 1)
        try motoServer.store(bucket: bucket, prefix: "").put(name: "p-top", from: S3PatternSource(count: 1), length: 1)

        let listed = try store.list()
        XCTAssertEqual(listed.map(\.name), names)
        XCTAssertEqual(listed.map(\.size), [0, 10, 20, 30, 40])
        for object in listed {
            XCTAssertLessThan(abs(object.modified?.timeIntervalSinceNow ?? 1e9), 600, "\(object)")
        }
        let listRequests = counting.targets.filter { $0.contains("list-type=2") }
        XCTAssertGreaterThanOrEqual(listRequests.count, 3, "\(listRequests)")
        XCTAssertTrue(listRequests.dropFirst().allSatisfy { $0.contains("continuation-token=") }, "\(listRequests)")
        XCTAssertEqual(try motoServer.store(bucket: bucket, prefix: "").list().map(\.name), ["p-top"])
    }

    func testDelete() throws {
        let bucket = try freshBucket()
        let store = try moto().store(bucket: bucket, prefix: "d/")
        try store.put(name: "keep", from: S3PatternSource(count: 3), length: 3)
        try store.put(name: "drop", from: S3PatternSource(count: 3), length: 3)
        try store.delete(name: "drop")
        XCTAssertEqual(try store.list().map(\.name), ["keep"])
        for action in [{ try store.get(name: "drop", into: S3CollectingSink()) }, { try store.delete(name: "drop") }] {
            XCTAssertThrowsError(try action()) { error in
                guard case let BackupStoreError.notFound(_, name) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "drop")
            }
        }
    }

    /// `bucket.localhost` resolves nowhere here, so the transport connects
    /// to 127.0.0.1 (as curl's --resolve would) while the request names the
    /// bucket in its signed Host header, which is what moto routes on.
    func testVirtualHostStyle() throws {
        let bucket = try freshBucket()
        let motoServer = try moto()
        var hosts: [String] = []
        let virtual = try motoServer.store(bucket: bucket, prefix: "v/", endpoint: HTTPBaseURL(scheme: .http, host: "localhost", port: motoServer.port),
                                           style: .virtual) { url in
            hosts.append(url.hostHeader)
            return HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: url.port))
        }
        XCTAssertEqual(hosts, ["\(bucket).localhost:\(motoServer.port)"])
        try roundTrip(virtual, name: "six", count: 6 * Self.mebibyte, announce: false)
        try roundTrip(virtual, name: "small", count: 1000, announce: true)
        XCTAssertEqual(try virtual.list().map(\.name), ["six", "small"])
        // The same objects through path style: they landed in that bucket.
        let path = try motoServer.store(bucket: bucket, prefix: "v/")
        XCTAssertEqual(try path.list().map(\.size), [6 * Self.mebibyte, 1000])
        try virtual.delete(name: "small")
        XCTAssertEqual(try path.list().map(\.name), ["six"])
    }

    func testWrongCredentialsAreRejectedWithS3sErrorCode() throws {
        let bucket = try freshBucket()
        let motoServer = try moto()
        let cases = [
            (SigV4Credentials(accessKeyID: motoServer.credentials.accessKeyID, secretAccessKey: "wrong-secret-123"), "SignatureDoesNotMatch"),
            (SigV4Credentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: "wrong-secret-123"), "InvalidAccessKeyId"),
        ]
        for (credentials, code) in cases {
            let store = try motoServer.store(bucket: bucket, credentials: credentials)
            XCTAssertThrowsError(try store.put(name: "x", from: S3PatternSource(count: 10), length: 10)) { error in
                guard case let BackupStoreError.failed(_, "x", "put", cause) = error, let s3 = cause as? S3Error else {
                    return XCTFail("\(error)")
                }
                XCTAssertEqual(s3.httpStatus, 403)
                XCTAssertEqual(s3.code, code)
                XCTAssertFalse("\(error)".contains("wrong-secret-123"))
            }
            XCTAssertThrowsError(try store.list())
        }
        XCTAssertEqual(try motoServer.store(bucket: bucket).list(), [], "nothing was stored")
    }

    func testFailingSourceLeavesNoMultipartUpload() throws {
        let bucket = try freshBucket()
        let store = try moto().store(bucket: bucket, prefix: "m/")
        // The oracle first: an upload left open is listed.
        let open = try S3Multipart.start(client: store.client, key: "m/open", partSize: 5 * Self.mebibyte, contentType: "application/gzip")
        XCTAssertEqual(try store.incompleteUploads(), [S3IncompleteUpload(key: "m/open", uploadID: open.uploadID)])
        try open.abort()
        XCTAssertEqual(try store.incompleteUploads(), [])

        XCTAssertThrowsError(try store.put(name: "broken", from: S3PatternSource(count: 30 * Self.mebibyte, failAfter: 11 * Self.mebibyte), length: nil)) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(cause is S3PatternSource.Failure, "\(cause)")
        }
        XCTAssertEqual(try store.incompleteUploads(), [])
        XCTAssertEqual(try store.list(), [])
    }

    // MARK: - S3's bad days, through the fault proxy

    private func storeBehindProxy(_ recorder: RetryRecorder, prefix: String = "r/") throws -> (S3Store, S3FaultProxy, TemporaryDirectory) {
        let bucket = try freshBucket()
        let scratch = try TemporaryDirectory()
        let proxy = try S3FaultProxy(upstreamPort: try moto().port, scratch: scratch)
        let store = try moto().store(bucket: bucket, prefix: prefix, endpoint: proxy.endpoint)
        store.retry = recorder.policy()
        return (store, proxy, scratch)
    }

    func testServerErrorsAndSlowDownAreRetried() throws {
        let recorder = RetryRecorder()
        let (store, proxy, _) = try storeBehindProxy(recorder)
        try proxy.arm("InternalError", method: "PUT")
        try proxy.arm("SlowDown", method: "PUT")
        try proxy.arm("ServiceUnavailable", method: "GET")
        try roundTrip(store, name: "small", count: 1000, announce: true)
        XCTAssertEqual(try proxy.requests().map { $0.components(separatedBy: " -> ")[1] },
                       ["InternalError", "SlowDown", "200", "ServiceUnavailable", "200"])
        XCTAssertEqual(recorder.waits, [0.5, 1, 0.5])
        XCTAssertTrue(recorder.reports[0].contains("S3 PutObject of r/small"), recorder.reports[0])
    }

    func testAPartIsSentAgainAfterATimeoutOrAReset() throws {
        let recorder = RetryRecorder()
        let (store, proxy, _) = try storeBehindProxy(recorder)
        try proxy.arm("RequestTimeout", match: "partNumber=1&")
        try proxy.arm("reset", match: "partNumber=2&")
        try roundTrip(store, name: "parts", count: 11 * Self.mebibyte, announce: false)
        let parts = try proxy.requests().filter { $0.contains("partNumber=") }.map { $0.components(separatedBy: " -> ")[1] }
        XCTAssertEqual(parts, ["RequestTimeout", "200", "reset", "200", "200"])
        XCTAssertEqual(try store.incompleteUploads(), [])
    }

    /// Starting or completing a multipart upload is a POST: sent again after
    /// an ambiguous failure it could make a second upload, so it is not.
    func testAPostIsNotRetried() throws {
        let recorder = RetryRecorder()
        let (store, proxy, _) = try storeBehindProxy(recorder)
        try proxy.arm("ServiceUnavailable", method: "POST")
        XCTAssertThrowsError(try store.put(name: "big", from: S3PatternSource(count: 6 * Self.mebibyte), length: nil)) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error, let s3 = cause as? S3Error else { return XCTFail("\(error)") }
            XCTAssertEqual(s3.httpStatus, 503)
            XCTAssertEqual(s3.code, "ServiceUnavailable")
        }
        XCTAssertEqual(recorder.waits, [])
    }
}
