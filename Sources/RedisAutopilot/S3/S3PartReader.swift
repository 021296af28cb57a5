/// Cuts a source into parts of `partSize` bytes (the last one shorter), each
/// held in memory so that its MD5 and SHA-256 are known before it is sent.
/// It reads one piece past each full part, so that a part is known to be
/// the last one when it is returned: an object that fits in one part is
/// stored with a single PutObject whether or not its length was announced.
final class S3PartReader {
    struct Part {
        var bytes: [UInt8]
        var isLast: Bool
    }

    let partSize: Int
    private let source: ByteSource
    /// Bytes read ahead of the part last returned.
    private var pending: [UInt8] = []
    private var sourceEnded = false
    private var finished = false
    /// Bytes returned in parts so far.
    private(set) var byteCount = 0

    init(source: ByteSource, partSize: Int) {
        self.source = source
        self.partSize = max(1, partSize)
    }

    /// The next part. The first call returns a part even for an empty
    /// source (an empty object is still an object); after the last part,
    /// empty last parts.
    func next() throws -> Part {
        guard !finished else { return Part(bytes: [], isLast: true) }
        var bytes = pending
        pending = []
        bytes.reserveCapacity(partSize)
        while bytes.count < partSize && !sourceEnded {
            let piece = try source.read(maxBytes: min(ByteStreams.chunkSize, partSize - bytes.count))
            if piece.isEmpty { sourceEnded = true } else { bytes += piece }
        }
        if !sourceEnded {
            pending = try source.read(maxBytes: ByteStreams.chunkSize)
            if pending.isEmpty { sourceEnded = true }
        }
        let isLast = sourceEnded && pending.isEmpty
        finished = isLast
        byteCount += bytes.count
        return Part(bytes: bytes, isLast: isLast)
    }
}
