import CZlib
import Dispatch
import Foundation

/// Yields the gzip compression of another source, read in pieces, as one
/// standard gzip member that `gzip -d` reads.
///
/// Deflate at any level is the whole cost of a backup on one core, so the
/// input is cut into blocks deflated on `threads` threads at once, as pigz
/// does: each block is primed with the previous block's last 32 KiB as its
/// dictionary (so it compresses as well as one stream would) and ends on a
/// byte boundary (a sync flush), so the blocks' outputs join into one
/// deflate stream; the last block finishes it. The CRC-32 of each block is
/// computed beside it and combined in order.
///
/// Memory is bounded whatever the size of the data: at most `2 × threads`
/// blocks are in flight, each holding its input and its output (at most the
/// block size plus 0.1%), plus each thread's deflate state (about 256 KiB),
/// so about `4 × threads × blockSize + threads × 256 KiB`: 9 MiB with two
/// threads and 1 MiB blocks.
final class GzipCompressingSource: ByteSource {
    /// Measured on an RDB of mixed values (BENCHMARKS.md): level 1 takes half
    /// the CPU time of level 6 for a gzip 1.2% larger.
    static let defaultLevel = 1
    static let defaultBlockSize = 1 << 20
    /// Blocks in flight per thread: one being deflated and one waiting, so
    /// no thread idles while the reader hashes and stores the previous one.
    static let blocksInFlightPerThread = 2

    private let source: ByteSource
    private let level: Int32
    private let blockSize: Int
    private let workers: [DispatchQueue]
    private let maxInFlight: Int
    private var inFlight: [DeflateBlock] = []
    private var nextWorker = 0
    private var dictionary: [UInt8] = []
    private var lastSubmitted = false
    private var output: [UInt8]
    private var outputOffset = 0
    private var crc = crc32(0, nil, 0)
    private var inputLength: UInt64 = 0
    private var trailerWritten = false

    /// `name` and `modified` go into the gzip header (what `gzip -N` restores);
    /// without them the header carries neither, as with `gzip -n`.
    init(_ source: ByteSource, level: Int = GzipCompressingSource.defaultLevel, threads: Int = 1,
                blockSize: Int = GzipCompressingSource.defaultBlockSize, name: String? = nil, modified: Date? = nil) throws {
        guard (0...9).contains(level) else { throw GzipError.invalidLevel(level) }
        guard threads >= 1 else { throw GzipError.invalidThreads(threads) }
        // A block shorter than the dictionary would prime the next one with
        // less than the 32 KiB window gzip itself has.
        guard blockSize >= Self.dictionarySize else { throw GzipError.invalidBlockSize(blockSize) }
        if let name, name.isEmpty || !name.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
            throw GzipError.invalidHeaderName(name)
        }
        self.source = source
        self.level = Int32(level)
        self.blockSize = blockSize
        workers = (0..<threads).map { DispatchQueue(label: "gzip-deflate-\($0)") }
        maxInFlight = threads * Self.blocksInFlightPerThread
        output = Self.header(level: level, name: name, modified: modified)
    }

    static let dictionarySize = 32 * 1024

    /// RFC 1952's member header, with the extra flags gzip and zlib write
    /// for the level (2: slowest, 4: fastest).
    private static func header(level: Int, name: String?, modified: Date?) -> [UInt8] {
        let seconds = modified.flatMap { UInt32(exactly: $0.timeIntervalSince1970.rounded(.down)) } ?? 0
        let extraFlags: UInt8 = level == 9 ? 2 : (level < 2 ? 4 : 0)
        var header: [UInt8] = [0x1F, 0x8B, 8, name == nil ? 0 : 0x08]
        header += (0..<4).map { UInt8(truncatingIfNeeded: seconds >> (8 * $0)) }
        // Operating system "Unix", as gzip writes it.
        header += [extraFlags, 3]
        if let name { header += Array(name.utf8) + [0] }
        return header
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        while outputOffset == output.count {
            guard try nextOutput() else { return [] }
        }
        let end = min(output.count, outputOffset + max(1, maxBytes))
        defer { outputOffset = end }
        return Array(output[outputOffset..<end])
    }

    /// Refills `output` with the next block's deflate data, or the trailer
    /// after the last; false once everything was handed out.
    private func nextOutput() throws -> Bool {
        try submitBlocks()
        outputOffset = 0
        guard !inFlight.isEmpty else {
            guard !trailerWritten else { return false }
            trailerWritten = true
            let size = UInt32(truncatingIfNeeded: inputLength)
            output = (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
                + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
            return true
        }
        let block = inFlight.removeFirst()
        block.done.wait()
        if let failure = block.failure { throw failure }
        crc = crc32_combine(crc, block.crc, off_t(block.input.count))
        output = block.output
        // Read again at once, so the freed slot is busy while this block is stored.
        try submitBlocks()
        return true
    }

    /// Reads and hands out blocks until `maxInFlight` are in flight or the
    /// last one is. A full block may be followed by nothing; the end is then
    /// an empty last block (two bytes of deflate), since a source says it has
    /// ended only when read again.
    private func submitBlocks() throws {
        while inFlight.count < maxInFlight && !lastSubmitted {
            var input: [UInt8] = []
            input.reserveCapacity(blockSize)
            while input.count < blockSize {
                let piece = try source.read(maxBytes: min(ByteStreams.chunkSize, blockSize - input.count))
                if piece.isEmpty {
                    lastSubmitted = true
                    break
                }
                input += piece
            }
            inputLength += UInt64(input.count)
            let block = DeflateBlock(input: input, dictionary: dictionary, level: level, last: lastSubmitted)
            if input.count >= Self.dictionarySize {
                dictionary = Array(input[(input.count - Self.dictionarySize)...])
            }
            inFlight.append(block)
            workers[nextWorker].async { block.run() }
            nextWorker = (nextWorker + 1) % workers.count
        }
    }
}

/// One block's raw deflate, run on a worker thread. The worker writes the
/// results before signalling `done` and the reader reads them only after
/// waiting on it, so the semaphore orders every access between the two.
private final class DeflateBlock: @unchecked Sendable {
    let input: [UInt8]
    let dictionary: [UInt8]
    let level: Int32
    let last: Bool
    let done = DispatchSemaphore(value: 0)
    private(set) var output: [UInt8] = []
    private(set) var crc: UInt = 0
    private(set) var failure: GzipError?

    init(input: [UInt8], dictionary: [UInt8], level: Int32, last: Bool) {
        self.input = input
        self.dictionary = dictionary
        self.level = level
        self.last = last
    }

    func run() {
        defer { done.signal() }
        crc = input.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        do {
            output = try deflateBlock()
        } catch let error as GzipError {
            failure = error
        } catch {
            failure = .zlib(operation: "deflate", code: Z_STREAM_ERROR, message: "\(error)")
        }
    }

    private func deflateBlock() throws -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        // Negative window bits: raw deflate, no zlib or gzip wrapper; the
        // source writes the one gzip header and trailer around all blocks.
        let status = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GzipError.zlib("deflateInit2", status, stream) }
        defer { deflateEnd(stream) }
        if !dictionary.isEmpty {
            let status = dictionary.withUnsafeBufferPointer { deflateSetDictionary(stream, $0.baseAddress, UInt32($0.count)) }
            guard status == Z_OK else { throw GzipError.zlib("deflateSetDictionary", status, stream) }
        }
        // deflateBound covers a finished stream; a sync flush adds at most
        // an empty stored block (5 bytes) and the bits before it.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(input.count))) + 16)
        let flush = last ? Z_FINISH : Z_SYNC_FLUSH
        var produced = 0
        var consumed = 0
        while true {
            let (status, read, written) = input.withUnsafeBufferPointer { pending in
                output.withUnsafeMutableBufferPointer { space in
                    let available = UInt32(pending.count - consumed)
                    stream.pointee.next_in = pending.baseAddress.map { UnsafeMutablePointer(mutating: $0 + consumed) }
                    stream.pointee.avail_in = available
                    stream.pointee.next_out = space.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = UInt32(space.count - produced)
                    let status = deflate(stream, flush)
                    let read = Int(available - stream.pointee.avail_in)
                    let written = space.count - produced - Int(stream.pointee.avail_out)
                    // The buffers are only valid inside these closures.
                    stream.pointee.next_in = nil
                    stream.pointee.next_out = nil
                    return (status, read, written)
                }
            }
            consumed += read
            produced += written
            let complete = last ? status == Z_STREAM_END : (status == Z_OK && consumed == input.count && produced < output.count)
            if complete { break }
            guard status == Z_OK || status == Z_BUF_ERROR else { throw GzipError.zlib("deflate", status, stream) }
            // Only reached if the bound was short: room for more.
            output += [UInt8](repeating: 0, count: 64 * 1024)
        }
        output.removeLast(output.count - produced)
        return output
    }
}
