/// MD5 (RFC 1321). Manta's `Content-MD5` and key fingerprints need it; it is
/// not collision resistant and is used for nothing that needs to be.
struct MD5: HashFunction {
    static let digestByteCount = 16
    static let blockByteCount = 64

    private var hasher = MerkleDamgardHasher<MD5Compression>()

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    func finalize() -> [UInt8] {
        hasher.finalize()
    }
}

struct MD5Compression: BlockCompression {
    static let lengthIsBigEndian = false

    /// floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
    private static let sineTable: [UInt32] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    ]

    private var a0: UInt32 = 0x67452301
    private var b0: UInt32 = 0xefcdab89
    private var c0: UInt32 = 0x98badcfe
    private var d0: UInt32 = 0x10325476

    init() {}

    mutating func compress(blocks: UnsafeRawPointer, count: Int) {
        Self.sineTable.withUnsafeBufferPointer { t in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { x in
                for blockIndex in 0..<count {
                    let block = blocks + blockIndex * 64
                    for i in 0..<16 {
                        x[i] = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                    }
                    var a = a0, b = b0, c = c0, d = d0
                    // Four steps a turn, renaming the variables instead of
                    // moving them, with each round's shifts as constants.
                    for i in stride(from: 0, to: 16, by: 4) {
                        md5Step(&a, b, (b & c) | (~b & d), t[i] &+ x[i], 7)
                        md5Step(&d, a, (a & b) | (~a & c), t[i + 1] &+ x[i + 1], 12)
                        md5Step(&c, d, (d & a) | (~d & b), t[i + 2] &+ x[i + 2], 17)
                        md5Step(&b, c, (c & d) | (~c & a), t[i + 3] &+ x[i + 3], 22)
                    }
                    for i in stride(from: 16, to: 32, by: 4) {
                        md5Step(&a, b, (b & d) | (c & ~d), t[i] &+ x[(5 &* i &+ 1) & 15], 5)
                        md5Step(&d, a, (a & c) | (b & ~c), t[i + 1] &+ x[(5 &* i &+ 6) & 15], 9)
                        md5Step(&c, d, (d & b) | (a & ~b), t[i + 2] &+ x[(5 &* i &+ 11) & 15], 14)
                        md5Step(&b, c, (c & a) | (d & ~a), t[i + 3] &+ x[(5 &* i &+ 16) & 15], 20)
                    }
                    for i in stride(from: 32, to: 48, by: 4) {
                        md5Step(&a, b, b ^ c ^ d, t[i] &+ x[(3 &* i &+ 5) & 15], 4)
                        md5Step(&d, a, a ^ b ^ c, t[i + 1] &+ x[(3 &* i &+ 8) & 15], 11)
                        md5Step(&c, d, d ^ a ^ b, t[i + 2] &+ x[(3 &* i &+ 11) & 15], 16)
                        md5Step(&b, c, c ^ d ^ a, t[i + 3] &+ x[(3 &* i &+ 14) & 15], 23)
                    }
                    for i in stride(from: 48, to: 64, by: 4) {
                        md5Step(&a, b, c ^ (b | ~d), t[i] &+ x[(7 &* i) & 15], 6)
                        md5Step(&d, a, b ^ (a | ~c), t[i + 1] &+ x[(7 &* i &+ 7) & 15], 10)
                        md5Step(&c, d, a ^ (d | ~b), t[i + 2] &+ x[(7 &* i &+ 14) & 15], 15)
                        md5Step(&b, c, d ^ (c | ~a), t[i + 3] &+ x[(7 &* i &+ 21) & 15], 21)
                    }
                    a0 &+= a
                    b0 &+= b
                    c0 &+= c
                    d0 &+= d
                }
            }
        }
    }

    func digestBytes() -> [UInt8] {
        littleEndianBytes(of: [a0, b0, c0, d0])
    }
}

/// One MD5 step: `a = b + ((a + mixed + constantPlusWord) <<< shift)`.
@inline(__always)
private func md5Step(_ a: inout UInt32, _ b: UInt32, _ mixed: UInt32, _ constantPlusWord: UInt32, _ shift: UInt32) {
    a = b &+ rotateLeft(a &+ mixed &+ constantPlusWord, shift)
}
