/// The compression function of a hash built on 64-byte blocks (SHA-256,
/// SHA-1, MD5). It takes many whole blocks at once so that its state stays in
/// registers across a long input.
protocol BlockCompression: Sendable {
    /// SHA appends the message length big-endian, MD5 little-endian.
    static var lengthIsBigEndian: Bool { get }

    init()
    mutating func compress(blocks: UnsafeRawPointer, count: Int)
    func digestBytes() -> [UInt8]
}

/// The buffering and padding shared by the 64-byte-block hashes: whole blocks
/// are compressed straight from the caller's buffer, and only a partial block
/// is copied aside until more input completes it.
struct MerkleDamgardHasher<Compression: BlockCompression>: Sendable {
    private static var blockSize: Int { 64 }

    private var compression = Compression()
    /// A fixed 64-byte buffer kept inline, so a hasher never allocates.
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var totalByteCount: UInt64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var input = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        totalByteCount &+= UInt64(remaining)

        if pendingCount > 0 {
            let taken = min(Self.blockSize - pendingCount, remaining)
            appendPending(input, count: taken)
            input += taken
            remaining -= taken
            if pendingCount == Self.blockSize {
                compressPending()
            }
        }
        let wholeBlocks = remaining / Self.blockSize
        if wholeBlocks > 0 {
            compression.compress(blocks: input, count: wholeBlocks)
            input += wholeBlocks * Self.blockSize
            remaining -= wholeBlocks * Self.blockSize
        }
        if remaining > 0 {
            appendPending(input, count: remaining)
        }
    }

    func finalize() -> [UInt8] {
        var copy = self
        let bitLength = totalByteCount &* 8
        var lengthField = Compression.lengthIsBigEndian ? bitLength.bigEndian : bitLength.littleEndian
        // 0x80 then zeros up to 8 bytes short of a block boundary, then the length.
        let padLength = (pendingCount < 56 ? 56 : 120) - pendingCount
        var padding = [UInt8](repeating: 0, count: padLength)
        padding[0] = 0x80
        padding.withUnsafeBytes { copy.update($0) }
        withUnsafeBytes(of: &lengthField) { copy.update($0) }
        return copy.compression.digestBytes()
    }

    private mutating func appendPending(_ source: UnsafeRawPointer, count: Int) {
        let offset = pendingCount
        withUnsafeMutableBytes(of: &pending) { buffer in
            guard let base = buffer.baseAddress else { return }
            (base + offset).copyMemory(from: source, byteCount: count)
        }
        pendingCount += count
    }

    private mutating func compressPending() {
        var block = pending
        withUnsafeBytes(of: &block) { buffer in
            guard let base = buffer.baseAddress else { return }
            compression.compress(blocks: base, count: 1)
        }
        pendingCount = 0
    }
}
