/// SHA-1 (FIPS 180-4). Only for `rsa-sha1` signatures that old servers still
/// ask for; it is not collision resistant.
struct SHA1: HashFunction {
    static let digestByteCount = 20
    static let blockByteCount = 64

    private var hasher = MerkleDamgardHasher<SHA1Compression>()

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    func finalize() -> [UInt8] {
        hasher.finalize()
    }
}

struct SHA1Compression: BlockCompression {
    static let lengthIsBigEndian = true

    private var h0: UInt32 = 0x67452301
    private var h1: UInt32 = 0xEFCDAB89
    private var h2: UInt32 = 0x98BADCFE
    private var h3: UInt32 = 0x10325476
    private var h4: UInt32 = 0xC3D2E1F0

    init() {}

    mutating func compress(blocks: UnsafeRawPointer, count: Int) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for blockIndex in 0..<count {
                let block = blocks + blockIndex * 64
                for i in 0..<16 {
                    w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                }
                for i in 16..<80 {
                    w[i] = rotateLeft(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1)
                }
                var a = h0, b = h1, c = h2, d = h3, e = h4
                for i in 0..<80 {
                    let mixed: UInt32
                    let constant: UInt32
                    switch i {
                    case 0..<20:
                        mixed = (b & c) | (~b & d)
                        constant = 0x5A827999
                    case 20..<40:
                        mixed = b ^ c ^ d
                        constant = 0x6ED9EBA1
                    case 40..<60:
                        mixed = (b & c) | (b & d) | (c & d)
                        constant = 0x8F1BBCDC
                    default:
                        mixed = b ^ c ^ d
                        constant = 0xCA62C1D6
                    }
                    let t = rotateLeft(a, 5) &+ mixed &+ e &+ constant &+ w[i]
                    e = d
                    d = c
                    c = rotateLeft(b, 30)
                    b = a
                    a = t
                }
                h0 &+= a
                h1 &+= b
                h2 &+= c
                h3 &+= d
                h4 &+= e
            }
        }
    }

    func digestBytes() -> [UInt8] {
        bigEndianBytes(of: [h0, h1, h2, h3, h4])
    }
}
