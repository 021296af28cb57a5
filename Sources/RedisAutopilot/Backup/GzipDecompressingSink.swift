import CZlib

/// Inflates gzip data written to it in pieces and passes the result on to
/// another sink; call `finish()` once all data was written, which is when a
/// truncated stream is detected. Each member's CRC-32 and length are checked
/// by zlib. Memory is zlib's state (about 40 KiB) plus one 64 KiB output
/// buffer, whatever the size of the data.
///
/// Concatenated members decompress to the concatenation of their contents,
/// as `gzip -d` does (RFC 1952 defines a gzip file as a series of members),
/// each member checked on its own. Bytes after a member that do not start
/// another member are rejected as trailing garbage, where `gzip -d` only
/// warns: a backup with unexplained bytes in it is not trusted.
/// The first error is final: later writes and `finish()` throw it again.
final class GzipDecompressingSink: ByteSink {
    private(set) var membersCompleted = 0
    private let sink: ByteSink
    private let stream: UnsafeMutablePointer<z_stream>
    // Filled in by inflate; whether the current member's header was complete
    // when an error came separates "not gzip at all" and "garbage after the
    // end" from corrupt data.
    private let header: UnsafeMutablePointer<gz_header>
    private var output: [UInt8]
    private var compressedOffset = 0
    /// A member just ended; the next byte, if any, starts a new member.
    private var atMemberBoundary = false
    private var failure: Error?
    private var finished = false

    init(into sink: ByteSink) throws {
        self.sink = sink
        output = [UInt8](repeating: 0, count: ByteStreams.chunkSize)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        let status = inflateInit2_(stream, gzipWindowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            let error = GzipError.zlib("inflateInit2", status, stream)
            stream.deallocate()
            header.deallocate()
            throw error
        }
        inflateGetHeader(stream, header)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        header.deallocate()
    }

    func write(_ bytes: [UInt8]) throws {
        guard !finished else { throw GzipError.writeAfterFinish }
        guard !bytes.isEmpty else { return }
        try failingForGood {
            try bytes.withUnsafeBufferPointer { try inflateAll($0) }
        }
    }

    /// Delivers what zlib still holds and checks that the data ended at the
    /// end of a member.
    func finish() throws {
        guard !finished else { throw GzipError.writeAfterFinish }
        try failingForGood {
            try inflateAll(UnsafeBufferPointer(start: nil, count: 0))
            finished = true
            if atMemberBoundary { return }
            if membersCompleted > 0 && !headerComplete {
                throw GzipError.trailingGarbage(offset: compressedOffset - Int(stream.pointee.total_in))
            }
            throw GzipError.truncated(compressedBytes: compressedOffset)
        }
    }

    private func failingForGood(_ body: () throws -> Void) throws {
        if let failure { throw failure }
        do {
            try body()
        } catch {
            failure = error
            throw error
        }
    }

    private func inflateAll(_ input: UnsafeBufferPointer<UInt8>) throws {
        var consumed = 0
        var outputFull = false
        repeat {
            if atMemberBoundary {
                if consumed == input.count { return }
                try startNextMember()
            }
            let available = UInt32(clamping: input.count - consumed)
            let (status, produced) = output.withUnsafeMutableBufferPointer { buffer in
                stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0 + consumed) }
                stream.pointee.avail_in = available
                stream.pointee.next_out = buffer.baseAddress
                stream.pointee.avail_out = UInt32(clamping: buffer.count)
                let status = inflate(stream, Z_NO_FLUSH)
                let produced = buffer.count - Int(stream.pointee.avail_out)
                stream.pointee.next_in = nil
                stream.pointee.next_out = nil
                return (status, produced)
            }
            let used = Int(available - stream.pointee.avail_in)
            consumed += used
            compressedOffset += used
            outputFull = produced == output.count
            if produced > 0 { try sink.write(Array(output[..<produced])) }
            switch status {
            case Z_OK:
                break
            case Z_STREAM_END:
                membersCompleted += 1
                atMemberBoundary = true
            case Z_BUF_ERROR:
                // No progress possible: zlib needs more input than it has.
                guard consumed == input.count else { throw GzipError.zlib("inflate", status, stream) }
                return
            case Z_DATA_ERROR:
                throw dataError()
            default:
                throw GzipError.zlib("inflate", status, stream)
            }
        } while consumed < input.count || outputFull
    }

    private func startNextMember() throws {
        let status = inflateReset(stream)
        guard status == Z_OK else { throw GzipError.zlib("inflateReset", status, stream) }
        // inflateReset forgets the header record; it must be given again.
        header.pointee = gz_header()
        inflateGetHeader(stream, header)
        atMemberBoundary = false
    }

    /// inflate sets `done` to 1 at the end of a gzip header, and to -1 when
    /// the first bytes are not a gzip magic number.
    private var headerComplete: Bool { header.pointee.done == 1 }

    private func dataError() -> GzipError {
        guard !headerComplete else {
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
            return .corrupt(offset: compressedOffset, message: message)
        }
        if membersCompleted == 0 { return .notGzip }
        return .trailingGarbage(offset: compressedOffset - Int(stream.pointee.total_in))
    }
}
