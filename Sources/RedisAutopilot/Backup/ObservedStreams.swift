/// Passes a source's bytes through unchanged while counting them and showing
/// each piece to `observe`: a digest (SHA-256, MD5 for Content-MD5) is
/// computed on the way to the store instead of in a second pass.
final class ObservedByteSource: ByteSource {
    private(set) var byteCount = 0
    private let source: ByteSource
    private let observe: ([UInt8]) -> Void

    init(_ source: ByteSource, observe: @escaping ([UInt8]) -> Void = { _ in }) {
        self.source = source
        self.observe = observe
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        let bytes = try source.read(maxBytes: maxBytes)
        byteCount += bytes.count
        if !bytes.isEmpty { observe(bytes) }
        return bytes
    }
}

/// Passes bytes on to a sink unchanged while counting them and showing each
/// piece to `observe`, so that what was received can be checked as it arrives.
final class ObservedByteSink: ByteSink {
    private(set) var byteCount = 0
    private let sink: ByteSink
    private let observe: ([UInt8]) -> Void

    init(_ sink: ByteSink, observe: @escaping ([UInt8]) -> Void = { _ in }) {
        self.sink = sink
        self.observe = observe
    }

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try sink.write(bytes)
        byteCount += bytes.count
        observe(bytes)
    }
}

enum ByteStreams {
    /// The piece size used when nothing else decides: large enough that
    /// per-call costs vanish, small enough to be irrelevant to memory.
    static let chunkSize = 64 * 1024

    /// Copies everything `source` yields into `sink`; returns the byte count.
    @discardableResult
    static func copy(from source: ByteSource, to sink: ByteSink, chunkSize: Int = ByteStreams.chunkSize) throws -> Int {
        var total = 0
        while true {
            let bytes = try source.read(maxBytes: chunkSize)
            if bytes.isEmpty { return total }
            try sink.write(bytes)
            total += bytes.count
        }
    }
}
