import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

final class FileStreamTests: XCTestCase {
    func testFileSourceReadsWholeFileInPiecesOfAtMostMaxBytes() throws {
        let directory = try TemporaryDirectory()
        let data = randomBytes(count: 100_003, seed: 1)
        let path = try directory.write("data", data)
        let source = try FileByteSource(path: path)
        var pieces: [[UInt8]] = []
        while true {
            let piece = try source.read(maxBytes: 4096)
            if piece.isEmpty { break }
            XCTAssertLessThanOrEqual(piece.count, 4096)
            pieces.append(piece)
        }
        XCTAssertEqual(Array(pieces.joined()), data)
        XCTAssertGreaterThanOrEqual(pieces.count, 25)
        XCTAssertEqual(try source.read(maxBytes: 10), [], "the end stays the end")
    }

    func testFileSourceOnMissingFileIsMissingWithPath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/absent"
        XCTAssertThrowsError(try FileByteSource(path: path)) { error in
            XCTAssertEqual(error as? FileStreamError, .missing(path: path))
            XCTAssertTrue("\(error)".contains(path))
        }
    }

    func testFileSourceReadFailureNamesThePath() throws {
        let directory = try TemporaryDirectory()
        // A directory opens for reading but read(2) fails with EISDIR.
        let source = try FileByteSource(path: directory.path)
        XCTAssertThrowsError(try source.read(maxBytes: 10)) { error in
            guard case let FileStreamError.read(path, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, directory.path)
            XCTAssertFalse(message.isEmpty)
        }
    }

    func testFileSinkWritesSyncsAndRefusesWritesAfterFinish() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/out"
        let sink = try FileByteSink(path: path)
        let data = randomBytes(count: 300_000, seed: 2)
        try sink.write(Array(data[..<1]))
        try sink.write([])
        try sink.write(Array(data[1...]))
        try sink.finish()
        XCTAssertEqual(try directory.read("out"), data)
        XCTAssertEqual(try permissions(of: path), 0o600)
        XCTAssertThrowsError(try sink.write([1])) { error in
            XCTAssertEqual(error as? FileStreamError, .alreadyClosed(path: path))
        }
    }

    func testFileSinkTruncatesOrRefusesExistingFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("out", Array("old content".utf8))
        let sink = try FileByteSink(path: path)
        try sink.write(Array("new".utf8))
        try sink.finish()
        XCTAssertEqual(try directory.read("out"), Array("new".utf8))
        XCTAssertThrowsError(try FileByteSink(path: path, creation: .exclusive)) { error in
            guard case let FileStreamError.open(errorPath, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(errorPath, path)
        }
    }

    func testFileSinkInMissingDirectoryFailsWithPath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/no/such/dir/out"
        XCTAssertThrowsError(try FileByteSink(path: path)) { error in
            guard case let FileStreamError.open(errorPath, message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(errorPath, path)
            XCTAssertTrue(message.contains("No such file"), message)
        }
    }

    func testAtomicWriterCommitReplacesAndLeavesNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let destination = try directory.write("target", Array("old".utf8))
        let writer = try AtomicFileWriter(destination: destination)
        let temporaryName = URL(fileURLWithPath: writer.temporaryPath).lastPathComponent
        XCTAssertTrue(temporaryName.hasPrefix(".target.tmp-"), temporaryName)
        XCTAssertEqual(temporaryName.count, ".target.tmp-".count + 16)
        try writer.write(Array("new content".utf8))
        XCTAssertEqual(try directory.read("target"), Array("old".utf8), "nothing visible before commit")
        try writer.commit()
        XCTAssertEqual(try directory.read("target"), Array("new content".utf8))
        XCTAssertEqual(try directory.names(), ["target"])
        XCTAssertThrowsError(try writer.write([1]))
    }

    func testAtomicWriterAbortOrDropKeepsOldContent() throws {
        let directory = try TemporaryDirectory()
        let destination = try directory.write("target", Array("old".utf8))
        let aborted = try AtomicFileWriter(destination: destination)
        try aborted.write(Array("partial".utf8))
        XCTAssertEqual(try directory.names().count, 2)
        aborted.abort()
        XCTAssertEqual(try directory.names(), ["target"])
        XCTAssertThrowsError(try aborted.commit())
        do {
            let dropped = try AtomicFileWriter(destination: destination)
            try dropped.write(Array("partial".utf8))
        }
        XCTAssertEqual(try directory.names(), ["target"])
        XCTAssertEqual(try directory.read("target"), Array("old".utf8))
    }

    func testObservedSourceAndSinkPassBytesThroughCountingAndShowingThem() throws {
        let data = randomBytes(count: 70_001, seed: 3)
        var seenBySource: [UInt8] = []
        var seenBySink: [UInt8] = []
        let source = ObservedByteSource(BytesSource(data, piece: 999)) { seenBySource += $0 }
        let memory = BytesSink()
        let sink = ObservedByteSink(memory) { seenBySink += $0 }
        let copied = try ByteStreams.copy(from: source, to: sink, chunkSize: 5000)
        XCTAssertEqual(copied, data.count)
        XCTAssertEqual(memory.bytes, data)
        XCTAssertEqual(seenBySource, data)
        XCTAssertEqual(seenBySink, data)
        XCTAssertEqual(source.byteCount, data.count)
        XCTAssertEqual(sink.byteCount, data.count)
    }

    func testObservedSinkDoesNotCountWhatTheInnerSinkRefused() throws {
        var seen = 0
        let sink = ObservedByteSink(FailingSink()) { seen += $0.count }
        XCTAssertThrowsError(try sink.write([1, 2, 3]))
        XCTAssertEqual(sink.byteCount, 0)
        XCTAssertEqual(seen, 0)
    }
}

// MARK: - Helpers shared by the backup tests

/// Bytes in memory, yielded in pieces of at most `piece` bytes.
final class BytesSource: ByteSource {
    private let bytes: [UInt8]
    private let piece: Int
    private var offset = 0

    init(_ bytes: [UInt8], piece: Int = 65536) {
        self.bytes = bytes
        self.piece = piece
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        let end = min(bytes.count, offset + min(piece, maxBytes))
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

final class BytesSink: ByteSink {
    var bytes: [UInt8] = []

    func write(_ bytes: [UInt8]) throws {
        self.bytes += bytes
    }
}

struct InjectedFailure: Error, Equatable {}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Yields `good` bytes, then throws: a disk or network failure half-way.
final class FailingSource: ByteSource {
    private var remaining: Int

    init(failingAfter good: Int) {
        remaining = good
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        guard remaining > 0 else { throw InjectedFailure() }
        let count = min(maxBytes, remaining)
        remaining -= count
        return [UInt8](repeating: 0x5A, count: count)
    }
}

final class FailingSink: ByteSink {
    func write(_ bytes: [UInt8]) throws {
        throw InjectedFailure()
    }
}

func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    var words = [UInt64](repeating: 0, count: (count + 7) / 8)
    for index in words.indices { words[index] = generator.next() }
    return words.withUnsafeBytes { Array($0.prefix(count)) }
}

func permissions(of path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int) ?? -1
}

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/backup-tests-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw TestSetupError("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func read(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
    }

    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}
