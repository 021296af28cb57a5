/// MD5 (RFC 1321). Manta's `Content-MD5` and key fingerprints need it; it is
/// not collision resistant and is used for nothing that needs to be.
public struct MD5: HashFunction {
    public static let digestByteCount = 16
    public static let blockByteCount = 64

    private var hasher = MerkleDamgardHasher<MD5Compression>()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    public func finalize() -> [UInt8] {
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
                    for i in 0..<16 {
                        let shift: UInt32 = [7, 12, 17, 22][i & 3]
                        let f = (b & c) | (~b & d)
                        (a, b, c, d) = (d, b &+ rotateLeft(a &+ f &+ t[i] &+ x[i], shift), b, c)
                    }
                    for i in 16..<32 {
                        let shift: UInt32 = [5, 9, 14, 20][i & 3]
                        let g = (b & d) | (c & ~d)
                        (a, b, c, d) = (d, b &+ rotateLeft(a &+ g &+ t[i] &+ x[(5 &* i &+ 1) & 15], shift), b, c)
                    }
                    for i in 32..<48 {
                        let shift: UInt32 = [4, 11, 16, 23][i & 3]
                        let h = b ^ c ^ d
                        (a, b, c, d) = (d, b &+ rotateLeft(a &+ h &+ t[i] &+ x[(3 &* i &+ 5) & 15], shift), b, c)
                    }
                    for i in 48..<64 {
                        let shift: UInt32 = [6, 10, 15, 21][i & 3]
                        let j = c ^ (b | ~d)
                        (a, b, c, d) = (d, b &+ rotateLeft(a &+ j &+ t[i] &+ x[(7 &* i) & 15], shift), b, c)
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
