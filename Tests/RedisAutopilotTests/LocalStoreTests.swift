import Foundation
import XCTest
@testable import RedisAutopilot

final class LocalStoreTests: XCTestCase {
    private var root: TemporaryDirectory!
    private var store: LocalDirectoryStore!
    private var storePath: String { root.path + "/backups" }

    override func setUpWithError() throws {
        root = try TemporaryDirectory()
        store = try LocalDirectoryStore(directory: root.path + "/backups")
    }

    override func tearDown() {
        store = nil
        root = nil
    }

    func testRoundTripsOfEmptyOneByteAndFiftyMegabytes() throws {
        for (size, seed) in [(0, 80), (1, 81), (50 * 1024 * 1024, 82)] {
            let name = "backup-\(size).rdb.gz"
            let data = randomBytes(count: size, seed: UInt64(seed))
            let before = Date()
            try store.put(name: name, from: BytesSource(data, piece: 1 << 20), length: size)
            let listed = try XCTUnwrap(try store.list().first { $0.name == name })
            XCTAssertEqual(listed.size, size)
            let modified = try XCTUnwrap(listed.modified)
            XCTAssertEqual(modified.timeIntervalSince1970, before.timeIntervalSince1970, accuracy: 60)
            let sink = BytesSink()
            try store.get(name: name, into: sink)
            XCTAssertEqual(sink.bytes.count, size)
            XCTAssertTrue(sink.bytes == data, "content of \(size) bytes differs")
            XCTAssertEqual(try permissions(of: storePath + "/" + name), 0o600)
        }
        XCTAssertEqual(try store.list().map(\.name), ["backup-0.rdb.gz", "backup-1.rdb.gz", "backup-52428800.rdb.gz"])
        for name in try store.list().map(\.name) {
            try store.delete(name: name)
        }
        XCTAssertEqual(try store.list(), [])
        XCTAssertEqual(try root.names(), ["backups"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: storePath), [])
    }

    func testPutOfUnknownLengthAndReplacement() throws {
        try store.put(name: "dump", from: BytesSource(Array("first".utf8)), length: nil)
        try store.put(name: "dump", from: BytesSource(Array("second, longer".utf8), piece: 3), length: nil)
        let sink = BytesSink()
        try store.get(name: "dump", into: sink)
        XCTAssertEqual(sink.bytes, Array("second, longer".utf8))
        XCTAssertEqual(try store.list().map(\.size), [14])
    }

    func testSourceFailingHalfWayLeavesNoTemporaryFileAndOldObjectIntact() throws {
        let old = randomBytes(count: 1000, seed: 83)
        try store.put(name: "dump.rdb.gz", from: BytesSource(old), length: old.count)
        XCTAssertThrowsError(try store.put(name: "dump.rdb.gz", from: FailingSource(failingAfter: 3 * 1024 * 1024), length: nil)) { error in
            guard case let BackupStoreError.failed(store, name, operation, cause) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(store, "local directory \(storePath)")
            XCTAssertEqual(name, "dump.rdb.gz")
            XCTAssertEqual(operation, "put")
            XCTAssertEqual(cause as? InjectedFailure, InjectedFailure())
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: storePath), ["dump.rdb.gz"])
        let sink = BytesSink()
        try store.get(name: "dump.rdb.gz", into: sink)
        XCTAssertEqual(sink.bytes, old)
    }

    func testLengthMismatchIsRejectedAndOldObjectIntact() throws {
        try store.put(name: "dump", from: BytesSource(Array("old".utf8)), length: 3)
        for (announced, given) in [(10, 5), (2, 5)] {
            XCTAssertThrowsError(try store.put(name: "dump", from: BytesSource([UInt8](repeating: 1, count: given)), length: announced)) { error in
                guard case let BackupStoreError.lengthMismatch(_, name, expected, actual) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "dump")
                XCTAssertEqual(expected, announced)
                XCTAssertEqual(actual, given)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: storePath), ["dump"])
        let sink = BytesSink()
        try store.get(name: "dump", into: sink)
        XCTAssertEqual(sink.bytes, Array("old".utf8))
    }

    func testMissingObjectsAreNotFound() throws {
        XCTAssertThrowsError(try store.get(name: "absent", into: BytesSink())) { error in
            guard case let BackupStoreError.notFound(store, name) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(store, "local directory \(storePath)")
            XCTAssertEqual(name, "absent")
        }
        XCTAssertThrowsError(try store.delete(name: "absent")) { error in
            guard case BackupStoreError.notFound(_, "absent") = error else { return XCTFail("\(error)") }
        }
    }

    func testSinkFailureIsReportedAsFailedGet() throws {
        try store.put(name: "dump", from: BytesSource([1, 2, 3]), length: 3)
        XCTAssertThrowsError(try store.get(name: "dump", into: FailingSink())) { error in
            guard case let BackupStoreError.failed(_, name, operation, cause) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "dump")
            XCTAssertEqual(operation, "get")
            XCTAssertEqual(cause as? InjectedFailure, InjectedFailure())
        }
    }

    func testBadNamesAreRejectedByEveryOperation() throws {
        let outside = root.path + "/escaped"
        let bad = ["", ".", "..", "../escaped", "a/b", "/etc/passwd", ".hidden", ".dump.tmp-0123456789abcdef", "a..b",
                   "with space", "tab\there", "new\nline", "caf\u{e9}", "nul\u{0}", "back\\slash", "q?x", "h#x", "p%2F",
                   String(repeating: "a", count: 201)]
        for name in bad {
            for operation in ["put", "get", "delete"] {
                XCTAssertThrowsError(try perform(operation, name)) { error in
                    guard case let BackupStoreError.invalidName(_, rejected, reason) = error else {
                        return XCTFail("\(operation) \(String(reflecting: name)): \(error)")
                    }
                    XCTAssertEqual(rejected, name)
                    XCTAssertFalse(reason.isEmpty)
                }
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: storePath), [])

        let good = ["redis-2024-01-02T03:04:05Z.rdb.gz", "a", "A_b-c.d+e=f,g@h", String(repeating: "z", count: 200)]
        for name in good {
            try store.put(name: name, from: BytesSource([7]), length: 1)
        }
        XCTAssertEqual(Set(try store.list().map(\.name)), Set(good))
    }

    func testListSkipsTemporaryFilesDirectoriesAndForeignNames() throws {
        try store.put(name: "kept", from: BytesSource([1, 2]), length: 2)
        try Data([1]).write(to: URL(fileURLWithPath: storePath + "/.kept.tmp-00000000deadbeef"))
        try Data([1]).write(to: URL(fileURLWithPath: storePath + "/not a backup"))
        try FileManager.default.createDirectory(atPath: storePath + "/subdir", withIntermediateDirectories: false)
        XCTAssertEqual(try store.list().map(\.name), ["kept"])
    }

    func testDirectoryIsCreatedPrivateWithParentsAndMustBeADirectory() throws {
        let nested = root.path + "/a/b/c"
        let created = try LocalDirectoryStore(directory: nested)
        XCTAssertEqual(try permissions(of: nested), 0o700)
        XCTAssertEqual(try permissions(of: root.path + "/a"), 0o700)
        XCTAssertEqual(created.description, "local directory \(nested)")
        XCTAssertEqual(try created.list(), [])

        let file = try root.write("plain-file", [1])
        XCTAssertThrowsError(try LocalDirectoryStore(directory: file)) { error in
            guard case let BackupStoreError.failed(_, nil, "create", cause) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(cause as? FileStreamError, .createDirectory(path: file, message: "exists and is not a directory"))
        }
    }

    func testStoreUsedThroughTheProtocolWithGzipBothWays() throws {
        let backups: BackupStore = store
        let data = compressibleBytes(count: 2_000_000, seed: 84)
        try backups.put(name: "dump.rdb.gz", from: try GzipCompressingSource(BytesSource(data)), length: nil)
        let restored = BytesSink()
        let gunzip = try GzipDecompressingSink(into: restored)
        try backups.get(name: "dump.rdb.gz", into: gunzip)
        try gunzip.finish()
        XCTAssertEqual(restored.bytes, data)
        XCTAssertLessThan(try backups.list()[0].size, data.count)
    }

    private func perform(_ operation: String, _ name: String) throws {
        switch operation {
        case "put": try store.put(name: name, from: BytesSource([1]), length: 1)
        case "get": try store.get(name: name, into: BytesSink())
        default: try store.delete(name: name)
        }
    }
}
