/// SHA-256 (FIPS 180-4).
struct SHA256: HashFunction {
    static let digestByteCount = 32
    static let blockByteCount = 64

    private var hasher = MerkleDamgardHasher<SHA256Compression>()

    init() {}

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    func finalize() -> [UInt8] {
        hasher.finalize()
    }
}

struct SHA256Compression: BlockCompression {
    static let lengthIsBigEndian = true

    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var h0: UInt32 = 0x6a09e667
    private var h1: UInt32 = 0xbb67ae85
    private var h2: UInt32 = 0x3c6ef372
    private var h3: UInt32 = 0xa54ff53a
    private var h4: UInt32 = 0x510e527f
    private var h5: UInt32 = 0x9b05688c
    private var h6: UInt32 = 0x1f83d9ab
    private var h7: UInt32 = 0x5be0cd19

    init() {}

    mutating func compress(blocks: UnsafeRawPointer, count: Int) {
        Self.roundConstants.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                for blockIndex in 0..<count {
                    let block = blocks + blockIndex * 64
                    for i in 0..<16 {
                        w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                    }
                    for i in 16..<64 {
                        let x = w[i - 15], y = w[i - 2]
                        let s0 = rotateRight(x, 7) ^ rotateRight(x, 18) ^ (x &>> 3)
                        let s1 = rotateRight(y, 17) ^ rotateRight(y, 19) ^ (y &>> 10)
                        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    // Unrolled by eight with the variables renamed instead of
                    // moved: eight fewer register moves a round.
                    var i = 0
                    while i < 64 {
                        sha256Round(a, b, c, &d, e, f, g, &h, k[i] &+ w[i])
                        sha256Round(h, a, b, &c, d, e, f, &g, k[i + 1] &+ w[i + 1])
                        sha256Round(g, h, a, &b, c, d, e, &f, k[i + 2] &+ w[i + 2])
                        sha256Round(f, g, h, &a, b, c, d, &e, k[i + 3] &+ w[i + 3])
                        sha256Round(e, f, g, &h, a, b, c, &d, k[i + 4] &+ w[i + 4])
                        sha256Round(d, e, f, &g, h, a, b, &c, k[i + 5] &+ w[i + 5])
                        sha256Round(c, d, e, &f, g, h, a, &b, k[i + 6] &+ w[i + 6])
                        sha256Round(b, c, d, &e, f, g, h, &a, k[i + 7] &+ w[i + 7])
                        i += 8
                    }
                    h0 &+= a
                    h1 &+= b
                    h2 &+= c
                    h3 &+= d
                    h4 &+= e
                    h5 &+= f
                    h6 &+= g
                    h7 &+= h
                }
            }
        }
    }

    func digestBytes() -> [UInt8] {
        bigEndianBytes(of: [h0, h1, h2, h3, h4, h5, h6, h7])
    }
}

/// One SHA-256 round; the caller renames the eight working variables
/// rather than moving them.
@inline(__always)
private func sha256Round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ constantPlusWord: UInt32
) {
    let sum1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
    let choice = (e & f) ^ (~e & g)
    let t1 = h &+ sum1 &+ choice &+ constantPlusWord
    let sum0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
    let majority = (a & b) ^ (a & c) ^ (b & c)
    d &+= t1
    h = t1 &+ sum0 &+ majority
}

@inline(__always)
func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value &>> count) | (value &<< (32 &- count))
}

@inline(__always)
func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value &<< count) | (value &>> (32 &- count))
}

func bigEndianBytes(of words: [UInt32]) -> [UInt8] {
    words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word &>> (24 - 8 * UInt32($0))) } }
}

func littleEndianBytes(of words: [UInt32]) -> [UInt8] {
    words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word &>> (8 * UInt32($0))) } }
}
