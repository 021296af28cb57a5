import Foundation
import XCTest
@testable import RedisAutopilot

final class GzipTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    // MARK: - Interoperability with the real gzip

    func testRealGzipReadsOurOutput() throws {
        for (size, seed) in [(0, 10), (1, 11), (10 * 1024 * 1024, 12)] {
            let data = randomBytes(count: size, seed: UInt64(seed))
            let compressed = try compress(data, piece: 100_000, readSize: 16384)
            let file = try directory.write("ours-\(size).gz", compressed)
            let result = try runTool("/usr/bin/gzip", ["-dc", file], stdoutName: "ours-\(size).out", in: directory)
            XCTAssertEqual(result.status, 0, "size \(size): \(result.stderr)")
            XCTAssertEqual(result.stderr, "", "size \(size)")
            XCTAssertEqual(try directory.read("ours-\(size).out"), data, "size \(size)")
        }
    }

    func testWeReadRealGzipOutput() throws {
        for (size, seed) in [(0, 20), (1, 21), (10 * 1024 * 1024, 22)] {
            let data = randomBytes(count: size, seed: UInt64(seed))
            let file = try directory.write("plain-\(size)", data)
            let result = try runTool("/usr/bin/gzip", ["-c", file], stdoutName: "plain-\(size).gz", in: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            let compressed = try directory.read("plain-\(size).gz")
            XCTAssertEqual(try decompress(compressed, piece: 4099), data, "size \(size)")
        }
    }

    func testCompressibleDataAtEveryLevelIsReadByGzip() throws {
        let data = compressibleBytes(count: 300_000, seed: 30)
        for level in [0, 1, 6, 9] {
            let compressed = try compress(data, level: level)
            if level > 0 { XCTAssertLessThan(compressed.count, data.count * 3 / 4, "level \(level)") }
            let file = try directory.write("level-\(level).gz", compressed)
            let result = try runTool("/usr/bin/gzip", ["-dc", file], stdoutName: "level-\(level).out", in: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try directory.read("level-\(level).out"), data, "level \(level)")
        }
    }

    func testOneBytePiecesBothWays() throws {
        let data = compressibleBytes(count: 20_000, seed: 40)
        let compressed = try compress(data, piece: 1, readSize: 1)
        XCTAssertEqual(try decompress(compressed, piece: 1), data)
        XCTAssertEqual(try decompress(try gzipWithTool(data, name: "pieces"), piece: 1), data)
    }

    /// Decided: concatenated members decompress to the concatenation, as with
    /// `gzip -d`, each member checked on its own.
    func testConcatenatedMembersGiveTheConcatenationLikeGzip() throws {
        let first = compressibleBytes(count: 50_000, seed: 50)
        let second = randomBytes(count: 7, seed: 51)
        let joined = try gzipWithTool(first, name: "first") + (try compress(second))
        let sink = BytesSink()
        let gunzip = try GzipDecompressingSink(into: sink)
        for start in stride(from: 0, to: joined.count, by: 1000) {
            try gunzip.write(Array(joined[start..<min(joined.count, start + 1000)]))
        }
        try gunzip.finish()
        XCTAssertEqual(sink.bytes, first + second)
        XCTAssertEqual(gunzip.membersCompleted, 2)

        let file = try directory.write("joined.gz", joined)
        let result = try runTool("/usr/bin/gzip", ["-dc", file], stdoutName: "joined.out", in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try directory.read("joined.out"), sink.bytes)
    }

    func testHeaderCarriesNameAndModificationTimeWhenGiven() throws {
        let named = try compress(Array("hello".utf8), name: "dump.rdb", modified: Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertEqual(Array(named[0..<3]), [0x1F, 0x8B, 8])
        XCTAssertEqual(named[3], 0x08, "FNAME flag only")
        XCTAssertEqual(littleEndian32(named, at: 4), 1_700_000_000)
        XCTAssertEqual(named[9], 3, "OS Unix")
        XCTAssertEqual(Array(named[10..<19]), Array("dump.rdb".utf8) + [0])
        XCTAssertEqual(try decompress(named), Array("hello".utf8))

        let anonymous = try compress(Array("hello".utf8))
        XCTAssertEqual(anonymous[3], 0, "no flags")
        XCTAssertEqual(littleEndian32(anonymous, at: 4), 0)

        let file = try directory.write("named.gz", named)
        let listing = try runTool("/usr/bin/gzip", ["-lN", file], stdoutName: "listing", in: directory)
        XCTAssertEqual(listing.status, 0, listing.stderr)
        XCTAssertTrue(String(decoding: try directory.read("listing"), as: UTF8.self).contains("dump.rdb"))
    }

    func testBadSettingsAreRejected() {
        XCTAssertThrowsError(try GzipCompressingSource(BytesSource([]), level: 10)) { error in
            XCTAssertEqual(error as? GzipError, .invalidLevel(10))
        }
        XCTAssertThrowsError(try GzipCompressingSource(BytesSource([]), level: -1))
        for name in ["", "a\u{0}b", "caf\u{e9}", "line\n"] {
            XCTAssertThrowsError(try GzipCompressingSource(BytesSource([]), name: name)) { error in
                XCTAssertEqual(error as? GzipError, .invalidHeaderName(name))
            }
        }
    }

    // MARK: - Damaged input

    func testFlippedByteInBodyIsCorrupt() throws {
        var damaged = try compress(compressibleBytes(count: 100_000, seed: 60))
        damaged[damaged.count / 2] ^= 0x10
        assertRejected(damaged) { error in
            guard case .corrupt = error else { return XCTFail("\(error)") }
        }
    }

    func testFlippedByteInStoredBlockIsCaughtByTheCRC() throws {
        var damaged = try compress(randomBytes(count: 5000, seed: 61), level: 0)
        damaged[damaged.count / 2] ^= 0x01
        assertRejected(damaged) { error in
            XCTAssertEqual(error, .corrupt(offset: damaged.count - 4, message: "incorrect data check"))
        }
    }

    func testFlippedByteInCRCOrLengthIsCorrupt() throws {
        let good = try compress(compressibleBytes(count: 10_000, seed: 62))
        var badCRC = good
        badCRC[good.count - 8] ^= 0xFF
        assertRejected(badCRC) { error in
            XCTAssertEqual(error, .corrupt(offset: good.count - 4, message: "incorrect data check"))
        }
        var badLength = good
        badLength[good.count - 1] ^= 0x01
        assertRejected(badLength) { error in
            XCTAssertEqual(error, .corrupt(offset: good.count, message: "incorrect length check"))
        }
    }

    func testTruncatedInputIsRejectedWhereverItEnds() throws {
        let good = try compress(compressibleBytes(count: 100_000, seed: 63), name: "t")
        for length in [0, 1, 5, 10, 12, good.count / 2, good.count - 8, good.count - 1] {
            assertRejected(Array(good[..<length])) { error in
                XCTAssertEqual(error, .truncated(compressedBytes: length), "cut at \(length)")
            }
        }
    }

    func testTrailingGarbageIsRejected() throws {
        let good = try compress(Array("payload".utf8))
        for garbage in [[0x0A], Array("junk after the end".utf8), [0x1F, 0x8B, 0x63, 0, 0, 0, 0, 0, 0, 0, 0]] as [[UInt8]] {
            assertRejected(good + garbage) { error in
                XCTAssertEqual(error, .trailingGarbage(offset: good.count), "garbage \(garbage)")
            }
        }
    }

    func testInputThatIsNotGzipIsRejected() throws {
        assertRejected(Array("REDIS0011 plainly not gzip".utf8)) { error in
            XCTAssertEqual(error, .notGzip)
        }
        // A zlib stream (not gzip-wrapped) must not pass either.
        assertRejected([0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) { error in
            XCTAssertEqual(error, .notGzip)
        }
    }

    func testFirstErrorIsFinal() throws {
        var damaged = try compress(compressibleBytes(count: 50_000, seed: 64))
        damaged[30] ^= 0xFF
        let gunzip = try GzipDecompressingSink(into: BytesSink())
        var firstError: GzipError?
        for start in stride(from: 0, to: damaged.count, by: 100) where firstError == nil {
            do {
                try gunzip.write(Array(damaged[start..<min(damaged.count, start + 100)]))
            } catch {
                firstError = error as? GzipError
            }
        }
        XCTAssertNotNil(firstError)
        XCTAssertThrowsError(try gunzip.write([1, 2, 3])) { XCTAssertEqual($0 as? GzipError, firstError) }
        XCTAssertThrowsError(try gunzip.finish()) { XCTAssertEqual($0 as? GzipError, firstError) }
    }

    func testErrorsOfTheInnerStreamsPassThrough() throws {
        let compressing = try GzipCompressingSource(FailingSource(failingAfter: 200_000))
        XCTAssertThrowsError(try ByteStreams.copy(from: compressing, to: BytesSink())) { error in
            XCTAssertEqual(error as? InjectedFailure, InjectedFailure())
        }
        let gunzip = try GzipDecompressingSink(into: FailingSink())
        XCTAssertThrowsError(try gunzip.write(try compress(Array("x".utf8)))) { error in
            XCTAssertEqual(error as? InjectedFailure, InjectedFailure())
        }
    }

    // MARK: - Helpers

    private func assertRejected(_ compressed: [UInt8], file: StaticString = #filePath, line: UInt = #line, _ check: (GzipError) -> Void) {
        // Fed whole and in small pieces: where the input is cut must not matter.
        for piece in [max(1, compressed.count), 7] {
            do {
                _ = try decompress(compressed, piece: piece)
                XCTFail("accepted damaged input (pieces of \(piece))", file: file, line: line)
            } catch let error as GzipError {
                check(error)
            } catch {
                XCTFail("unexpected \(error)", file: file, line: line)
            }
        }
    }

    private func gzipWithTool(_ data: [UInt8], name: String) throws -> [UInt8] {
        let file = try directory.write(name, data)
        let result = try runTool("/usr/bin/gzip", ["-c", file], stdoutName: name + ".gz", in: directory)
        guard result.status == 0 else { throw TestSetupError("gzip failed: \(result.stderr)") }
        return try directory.read(name + ".gz")
    }

    private func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}

func compress(_ data: [UInt8], level: Int = GzipCompressingSource.defaultLevel, name: String? = nil, modified: Date? = nil,
              piece: Int = 65536, readSize: Int = 65536) throws -> [UInt8] {
    let source = try GzipCompressingSource(BytesSource(data, piece: piece), level: level, name: name, modified: modified)
    let sink = BytesSink()
    try ByteStreams.copy(from: source, to: sink, chunkSize: readSize)
    return sink.bytes
}

func decompress(_ compressed: [UInt8], piece: Int = 65536) throws -> [UInt8] {
    let sink = BytesSink()
    let gunzip = try GzipDecompressingSink(into: sink)
    try ByteStreams.copy(from: BytesSource(compressed, piece: piece), to: gunzip)
    try gunzip.finish()
    return sink.bytes
}

/// Text-like bytes (16 symbols): compressible, unlike `randomBytes`.
func compressibleBytes(count: Int, seed: UInt64) -> [UInt8] {
    randomBytes(count: count, seed: seed).map { UInt8(ascii: "a") + ($0 & 0x0F) }
}

/// Runs a tool with stdout and stderr going to files in `directory`, so that
/// no pipe can fill up; gives up after `timeout` seconds.
func runTool(_ executable: String, _ arguments: [String], stdoutName: String, in directory: TemporaryDirectory,
             timeout: Double = 60) throws -> (status: Int32, stderr: String) {
    let stdoutPath = directory.path + "/" + stdoutName
    let stderrPath = stdoutPath + ".stderr"
    guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
          FileManager.default.createFile(atPath: stderrPath, contents: nil),
          let stdout = FileHandle(forWritingAtPath: stdoutPath), let stderr = FileHandle(forWritingAtPath: stderrPath) else {
        throw TestSetupError("cannot open \(stdoutPath)")
    }
    defer {
        try? stdout.close()
        try? stderr.close()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let deadline = Deadline.after(seconds: timeout)
    while process.isRunning {
        if deadline.hasPassed {
            process.terminate()
            process.waitUntilExit()
            throw TestSetupError("\(executable) \(arguments) did not finish in \(timeout) s")
        }
        usleep(10_000)
    }
    let errors = try Data(contentsOf: URL(fileURLWithPath: stderrPath))
    return (process.terminationStatus, String(decoding: errors, as: UTF8.self))
}
