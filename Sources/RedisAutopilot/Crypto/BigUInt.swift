/// A non-negative integer of any size, as RSA needs: 64-bit limbs, least
/// significant first, never a zero limb at the top (zero has no limbs).
struct BigUInt: Sendable, Equatable, Comparable, CustomStringConvertible {
    private(set) var limbs: [UInt64]

    init() {
        limbs = []
    }

    init(_ value: UInt64) {
        limbs = value == 0 ? [] : [value]
    }

    init(limbs: [UInt64]) {
        self.limbs = limbs
        while self.limbs.last == 0 {
            self.limbs.removeLast()
        }
    }

    init(bigEndian bytes: some Collection<UInt8>) {
        var limbs = [UInt64](repeating: 0, count: (bytes.count + 7) / 8)
        for (index, byte) in bytes.reversed().enumerated() {
            limbs[index / 8] |= UInt64(byte) << (8 * UInt64(index % 8))
        }
        self.init(limbs: limbs)
    }

    /// The shortest big-endian form; zero is empty.
    func bigEndianBytes() -> [UInt8] {
        bigEndianBytes(count: (bitWidth + 7) / 8) ?? []
    }

    /// Exactly `count` bytes, zero-padded on the left; nil if it does not fit.
    func bigEndianBytes(count: Int) -> [UInt8]? {
        guard (bitWidth + 7) / 8 <= count else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<min(count, limbs.count * 8) {
            bytes[count - 1 - index] = UInt8(truncatingIfNeeded: limbs[index / 8] >> (8 * UInt64(index % 8)))
        }
        return bytes
    }

    var isZero: Bool { limbs.isEmpty }
    var isOdd: Bool { (limbs.first ?? 0) & 1 == 1 }

    var bitWidth: Int {
        guard let top = limbs.last else { return 0 }
        return limbs.count * 64 - top.leadingZeroBitCount
    }

    /// The value's size only: these numbers are key material.
    var description: String { "BigUInt(\(bitWidth) bits)" }

    static func < (lhs: BigUInt, rhs: BigUInt) -> Bool {
        compare(lhs.limbs, rhs.limbs) < 0
    }

    func adding(_ other: BigUInt) -> BigUInt {
        var result = [UInt64](repeating: 0, count: max(limbs.count, other.limbs.count) + 1)
        var carry: UInt64 = 0
        for index in 0..<(result.count - 1) {
            (result[index], carry) = Limb.add(limb(index), other.limb(index), carry)
        }
        result[result.count - 1] = carry
        return BigUInt(limbs: result)
    }

    /// nil when `other` is larger: these numbers cannot go negative.
    func subtracting(_ other: BigUInt) -> BigUInt? {
        guard other <= self else { return nil }
        var result = limbs
        Self.subtractInPlace(&result, other.limbs)
        return BigUInt(limbs: result)
    }

    func multiplied(by other: BigUInt) -> BigUInt {
        guard !isZero, !other.isZero else { return BigUInt() }
        var result = [UInt64](repeating: 0, count: limbs.count + other.limbs.count)
        for (i, left) in limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, right) in other.limbs.enumerated() {
                (result[i + j], carry) = Limb.multiplyAdd(left, right, result[i + j], carry)
            }
            result[i + other.limbs.count] = carry
        }
        return BigUInt(limbs: result)
    }

    /// nil for a zero divisor.
    func remainder(dividingBy divisor: BigUInt) -> BigUInt? {
        guard !divisor.isZero else { return nil }
        return BigUInt(limbs: Self.remainder(limbs, modulo: divisor.limbs))
    }

    private func limb(_ index: Int) -> UInt64 {
        index < limbs.count ? limbs[index] : 0
    }

    /// Shift-and-subtract, one bit of the dividend at a time: slow next to
    /// long division by limbs, but RSA needs it only a few times per
    /// signature, against thousands of modular multiplications. Each step
    /// subtracts and keeps the result by mask, so that the time taken does
    /// not depend on the (secret) modulus.
    static func remainder(_ dividend: [UInt64], modulo modulus: [UInt64]) -> [UInt64] {
        guard compare(dividend, modulus) >= 0 else { return dividend }
        // remainder < modulus, so 2 * remainder + 1 fits one limb more.
        let count = modulus.count + 1
        var remainder = [UInt64](repeating: 0, count: count)
        var difference = remainder
        let padded = modulus + [0]
        remainder.withUnsafeMutableBufferPointer { r in
            difference.withUnsafeMutableBufferPointer { d in
                padded.withUnsafeBufferPointer { m in
                    for bitIndex in stride(from: dividend.count * 64 - 1, through: 0, by: -1) {
                        var carry = (dividend[bitIndex / 64] &>> UInt64(bitIndex % 64)) & 1
                        for index in 0..<count {
                            let value = r[index]
                            r[index] = (value &<< 1) | carry
                            carry = value &>> 63
                        }
                        var borrow: UInt64 = 0
                        for index in 0..<count {
                            (d[index], borrow) = Limb.subtract(r[index], m[index], borrow)
                        }
                        // No borrow: remainder >= modulus, keep the difference.
                        let keepDifference = borrow &- 1
                        for index in 0..<count {
                            r[index] = (d[index] & keepDifference) | (r[index] & ~keepDifference)
                        }
                    }
                }
            }
        }
        return remainder
    }

    /// -1, 0 or 1; leading zero limbs do not count.
    static func compare(_ lhs: [UInt64], _ rhs: [UInt64]) -> Int {
        for index in stride(from: max(lhs.count, rhs.count) - 1, through: 0, by: -1) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            if left != right {
                return left < right ? -1 : 1
            }
        }
        return 0
    }

    /// `minuend -= subtrahend`; the caller has checked it does not go below zero.
    private static func subtractInPlace(_ minuend: inout [UInt64], _ subtrahend: [UInt64]) {
        var borrow: UInt64 = 0
        for index in minuend.indices {
            let right = index < subtrahend.count ? subtrahend[index] : 0
            (minuend[index], borrow) = Limb.subtract(minuend[index], right, borrow)
        }
    }
}
