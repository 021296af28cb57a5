import CZlib
import Foundation

/// Yields the gzip compression of another source, read in pieces: memory
/// stays at zlib's state (about 256 KiB at level 6) plus one input piece,
/// whatever the size of the data.
final class GzipCompressingSource: ByteSource {
    static let defaultLevel = 6

    private let source: ByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    // zlib keeps pointers to the header and its name until the header has
    // been written, possibly over several deflate calls.
    private let header: UnsafeMutablePointer<gz_header>
    private let headerName: UnsafeMutableBufferPointer<UInt8>?
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var sourceEnded = false
    private var finished = false

    /// `name` and `modified` go into the gzip header (what `gzip -N` restores);
    /// without them the header carries neither, as with `gzip -n`.
    init(_ source: ByteSource, level: Int = GzipCompressingSource.defaultLevel, name: String? = nil, modified: Date? = nil) throws {
        guard (0...9).contains(level) else { throw GzipError.invalidLevel(level) }
        if let name, name.isEmpty || !name.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
            throw GzipError.invalidHeaderName(name)
        }
        self.source = source
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        // Operating system "Unix", as gzip writes it.
        header.pointee.os = 3
        if let modified, let seconds = UInt32(exactly: modified.timeIntervalSince1970.rounded(.down)) {
            header.pointee.time = UInt(seconds)
        }
        if let name {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: name.utf8.count + 1)
            _ = buffer.initialize(from: name.utf8)
            buffer[name.utf8.count] = 0
            header.pointee.name = buffer.baseAddress
            headerName = buffer
        } else {
            headerName = nil
        }
        let status = deflateInit2_(stream, Int32(level), Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            let error = GzipError.zlib("deflateInit2", status, stream)
            release(deflateInitialised: false)
            throw error
        }
        let headerStatus = deflateSetHeader(stream, header)
        guard headerStatus == Z_OK else {
            let error = GzipError.zlib("deflateSetHeader", headerStatus, stream)
            release(deflateInitialised: true)
            throw error
        }
    }

    deinit {
        release(deflateInitialised: true)
    }

    private func release(deflateInitialised: Bool) {
        if deflateInitialised { deflateEnd(stream) }
        stream.deallocate()
        header.deallocate()
        headerName?.deallocate()
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        let capacity = max(1, maxBytes)
        return try [UInt8](unsafeUninitializedCapacity: capacity) { output, produced in
            produced = 0
            while produced == 0 && !finished {
                if inputOffset == input.count && !sourceEnded {
                    input = try source.read(maxBytes: ByteStreams.chunkSize)
                    inputOffset = 0
                    sourceEnded = input.isEmpty
                }
                produced += try deflateStep(into: UnsafeMutableBufferPointer(rebasing: output[produced...]))
            }
        }
    }

    /// One deflate call over the pending input; returns the bytes written.
    private func deflateStep(into output: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        let flush = sourceEnded ? Z_FINISH : Z_NO_FLUSH
        let (status, consumed, produced) = input.withUnsafeBufferPointer { pending in
            let available = UInt32(clamping: pending.count - inputOffset)
            stream.pointee.next_in = pending.baseAddress.map { UnsafeMutablePointer(mutating: $0 + inputOffset) }
            stream.pointee.avail_in = available
            stream.pointee.next_out = output.baseAddress
            stream.pointee.avail_out = UInt32(clamping: output.count)
            let status = deflate(stream, flush)
            let consumed = Int(available - stream.pointee.avail_in)
            let produced = Int(UInt32(clamping: output.count) - stream.pointee.avail_out)
            // The buffers are only valid inside this closure.
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
            return (status, consumed, produced)
        }
        inputOffset += consumed
        switch status {
        case Z_OK:
            return produced
        case Z_STREAM_END:
            finished = true
            return produced
        default:
            // Z_BUF_ERROR cannot happen: every call has input or finishes,
            // and has output space. Anything else is zlib's own failure.
            throw GzipError.zlib("deflate", status, stream)
        }
    }
}
