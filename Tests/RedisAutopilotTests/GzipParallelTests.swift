import CZlib
import Foundation
import XCTest
@testable import RedisAutopilot

/// The block-parallel compressor: one standard gzip member whatever the
/// threads and block boundaries, checked by the real gzip.
final class GzipParallelTests: XCTestCase {
    private static let block = 32 * 1024
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    override func tearDown() {
        directory = nil
    }

    func testRealGzipAcceptsEveryBlockBoundary() throws {
        let block = Self.block
        let sizes = [0, 1, block - 1, block, block + 1, 3 * block, 5 * block + 7]
        for size in sizes {
            let data = compressibleBytes(count: size, seed: UInt64(100 + size % 97))
            for threads in [1, 2, 4] {
                let label = "size \(size), \(threads) thread(s)"
                let compressed = try compress(data, threads: threads, blockSize: block, piece: 5000)
                let file = try directory.write("p-\(size)-\(threads).gz", compressed)
                let test = try runTool("/usr/bin/gzip", ["-t", file], stdoutName: "t-\(size)-\(threads)", in: directory)
                XCTAssertEqual(test.status, 0, "gzip -t, \(label): \(test.stderr)")
                let result = try runTool("/usr/bin/gunzip", ["-c", file], stdoutName: "p-\(size)-\(threads).out", in: directory)
                XCTAssertEqual(result.status, 0, "gunzip, \(label): \(result.stderr)")
                XCTAssertEqual(result.stderr, "", label)
                XCTAssertEqual(try directory.read("p-\(size)-\(threads).out"), data, label)
                XCTAssertEqual(try decompress(compressed, piece: 777), data, label)
            }
        }
    }

    func testTrailerCarriesTheCRCAndLengthOfTheWholeInput() throws {
        let data = randomBytes(count: 7 * Self.block + 123, seed: 110)
        let compressed = try compress(data, level: 6, threads: 3, blockSize: Self.block)
        let expected = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        XCTAssertEqual(littleEndian32(compressed, at: compressed.count - 8), expected)
        XCTAssertEqual(littleEndian32(compressed, at: compressed.count - 4), UInt32(data.count))
        XCTAssertEqual(compressed[8], 0, "extra flags of level 6")
        XCTAssertEqual(try compress([], level: 1)[8], 4, "level 1 says fastest, as gzip -1 does")
        XCTAssertEqual(try compress([], level: 9)[8], 2, "level 9 says slowest, as gzip -9 does")
    }

    /// The output depends on the data, level and block size only: which
    /// thread deflated which block leaves no trace.
    func testOutputIsTheSameWhateverTheThreads() throws {
        let data = compressibleBytes(count: 9 * Self.block + 5, seed: 120)
        let one = try compress(data, threads: 1, blockSize: Self.block)
        for threads in [2, 3, 8] {
            XCTAssertEqual(try compress(data, threads: threads, blockSize: Self.block, piece: 333), one, "\(threads) threads")
        }
    }

    /// Each block is primed with the previous block's last 32 KiB: data that
    /// repeats across a block boundary costs almost nothing after the first
    /// copy, as in one stream. Without the dictionary every block would pay
    /// for its 20 KiB of random bytes again.
    func testBlocksArePrimedWithThePreviousBlocksTail() throws {
        let unit = randomBytes(count: 20_000, seed: 130)
        let data = Array(repeating: unit, count: 40).flatMap { $0 }
        let parallel = try compress(data, threads: 2, blockSize: Self.block)
        let single = try compress(data, threads: 1, blockSize: data.count + Self.block)
        XCTAssertLessThan(parallel.count, 2 * unit.count, "blocks compressed without the previous block's tail")
        XCTAssertLessThan(parallel.count, single.count + single.count / 20)
        XCTAssertEqual(try decompress(parallel), data)
    }

    /// Memory stays bounded: the source is never read more than the blocks
    /// in flight ahead of what the output has delivered.
    func testReadsAtMostTheBlocksInFlightAhead() throws {
        let block = Self.block
        let threads = 2
        let total = 40 * block + 99
        let inFlight = threads * GzipCompressingSource.blocksInFlightPerThread
        let input = ObservedByteSource(BytesSource(compressibleBytes(count: total, seed: 140), piece: 10_000))
        let compressing = try GzipCompressingSource(input, threads: threads, blockSize: block)
        let delivered = ObservedByteSink(BytesSink())
        let gunzip = try GzipDecompressingSink(into: delivered)
        var furthestAhead = 0
        while true {
            let piece = try compressing.read(maxBytes: 1000)
            if piece.isEmpty { break }
            try gunzip.write(piece)
            furthestAhead = max(furthestAhead, input.byteCount - delivered.byteCount)
        }
        try gunzip.finish()
        XCTAssertEqual(delivered.byteCount, total)
        XCTAssertLessThanOrEqual(furthestAhead, (inFlight + 1) * block)
        XCTAssertGreaterThanOrEqual(furthestAhead, inFlight * block, "the blocks in flight were read ahead")
    }

    func testBadSettingsAreRejected() {
        XCTAssertThrowsError(try GzipCompressingSource(BytesSource([]), threads: 0)) { error in
            XCTAssertEqual(error as? GzipError, .invalidThreads(0))
        }
        XCTAssertThrowsError(try GzipCompressingSource(BytesSource([]), blockSize: 32 * 1024 - 1)) { error in
            XCTAssertEqual(error as? GzipError, .invalidBlockSize(32 * 1024 - 1))
        }
        XCTAssertThrowsError(try GzipCompressingSource(BytesSource([]), level: 10, threads: 4)) { error in
            XCTAssertEqual(error as? GzipError, .invalidLevel(10))
        }
    }

    func testSourceErrorAfterSomeBlocksPassesThrough() throws {
        let compressing = try GzipCompressingSource(FailingSource(failingAfter: 5 * Self.block + 10), threads: 3, blockSize: Self.block)
        XCTAssertThrowsError(try ByteStreams.copy(from: compressing, to: BytesSink())) { error in
            XCTAssertEqual(error as? InjectedFailure, InjectedFailure())
        }
    }

    private func compress(_ data: [UInt8], level: Int = GzipCompressingSource.defaultLevel, threads: Int = 2,
                          blockSize: Int = GzipCompressingSource.defaultBlockSize, piece: Int = 65536) throws -> [UInt8] {
        let source = try GzipCompressingSource(BytesSource(data, piece: piece), level: level, threads: threads, blockSize: blockSize)
        let sink = BytesSink()
        try ByteStreams.copy(from: source, to: sink)
        return sink.bytes
    }

    private func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
