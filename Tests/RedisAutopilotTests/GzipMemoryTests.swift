import CZlib
import Glibc
import XCTest
@testable import RedisAutopilot

/// Streams far more data than the buffers involved through compress and
/// decompress, so that anything holding the whole stream would show in the
/// process's peak memory.
final class GzipMemoryTests: XCTestCase {
    func testThreeHundredMegabytesStreamThroughInBoundedMemory() throws {
        let total = 300 * 1024 * 1024
        let peakBefore = peakResidentBytes()
        var crcIn = crc32(0, nil, 0)
        var crcOut = crc32(0, nil, 0)
        let generated = ObservedByteSource(GeneratingSource(total: total)) { crcIn = checksum(crcIn, $0) }
        let compressing = try GzipCompressingSource(generated)
        let compressedCount = ObservedByteSource(compressing)
        let counted = ObservedByteSink(DiscardingSink()) { crcOut = checksum(crcOut, $0) }
        let gunzip = try GzipDecompressingSink(into: counted)
        try ByteStreams.copy(from: compressedCount, to: gunzip)
        try gunzip.finish()

        XCTAssertEqual(generated.byteCount, total)
        XCTAssertEqual(counted.byteCount, total)
        XCTAssertEqual(crcOut, crcIn)
        XCTAssertLessThan(compressedCount.byteCount, total, "the generated data is compressible")
        let growth = peakResidentBytes() - peakBefore
        print("gzip round trip of \(total) bytes (\(compressedCount.byteCount) compressed): peak RSS grew by \(growth / 1024) KiB")
        XCTAssertLessThan(growth, 64 * 1024 * 1024)
    }

    private func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }
}

private func checksum(_ crc: UInt, _ bytes: [UInt8]) -> UInt {
    bytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
}

/// `total` bytes made on the fly, never held at once: pieces of a 1 MiB
/// pattern of repeated "words" (compressible like real data), each piece
/// starting elsewhere in it so that the stream is not one repeated block.
private final class GeneratingSource: ByteSource {
    private static let patternSize = 1 << 20
    private let pattern: [UInt8]
    private var remaining: Int
    private var start = 0

    init(total: Int) {
        remaining = total
        let words = (0..<512).map { randomBytes(count: 8 + $0 % 24, seed: UInt64(1000 + $0)) }
        var generator = SplitMix64(seed: 70)
        var pattern: [UInt8] = []
        pattern.reserveCapacity(2 * GeneratingSource.patternSize + 32)
        while pattern.count < GeneratingSource.patternSize {
            pattern += words[Int(generator.next() % 512)]
        }
        pattern.removeLast(pattern.count - GeneratingSource.patternSize)
        // Twice over, so a piece starting anywhere in the first copy is one slice.
        self.pattern = pattern + pattern
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        let count = min(maxBytes, remaining, GeneratingSource.patternSize)
        remaining -= count
        defer { start = (start + 7919) % GeneratingSource.patternSize }
        return Array(pattern[start..<start + count])
    }
}

private final class DiscardingSink: ByteSink {
    func write(_ bytes: [UInt8]) throws {}
}
