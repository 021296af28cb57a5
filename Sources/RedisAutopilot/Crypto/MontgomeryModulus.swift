/// Modular exponentiation for one odd modulus, in Montgomery form
/// (R = 2^(64 * limb count)), so that no step needs a division.
///
/// The multiplication's final subtraction and the window table lookup do not
/// branch on secret values; the exponent's bit length is not hidden.
struct MontgomeryModulus: Sendable {
    let modulus: BigUInt
    /// -modulus^-1 mod 2^64.
    private let inverse: UInt64
    /// R^2 mod modulus, `limbCount` limbs: multiplying by it enters Montgomery form.
    private let rSquared: [UInt64]

    private var limbCount: Int { modulus.limbs.count }

    /// nil unless the modulus is odd and above 1.
    init?(_ modulus: BigUInt) {
        guard modulus.isOdd, modulus.bitWidth > 1 else { return nil }
        self.modulus = modulus
        let first = modulus.limbs[0]
        // Newton's iteration doubles the correct low bits each step: 3 (an odd
        // number is its own inverse mod 8), 6, 12, 24, 48, 96.
        var x = first
        for _ in 0..<5 {
            x = x &* (2 &- first &* x)
        }
        inverse = 0 &- x
        let count = modulus.limbs.count
        let rSquaredUnreduced = [UInt64](repeating: 0, count: 2 * count) + [1]
        let reduced = BigUInt.remainder(rSquaredUnreduced, modulo: modulus.limbs)
        rSquared = Array((reduced + [UInt64](repeating: 0, count: count)).prefix(count))
    }

    /// value mod modulus.
    func reduce(_ value: BigUInt) -> BigUInt {
        BigUInt(limbs: BigUInt.remainder(value.limbs, modulo: modulus.limbs))
    }

    /// base^exponent mod modulus, with a fixed window of four exponent bits.
    func power(_ base: BigUInt, _ exponent: BigUInt) -> BigUInt {
        let k = limbCount
        let reduced = reduce(base).limbs
        let reducedBase = reduced + [UInt64](repeating: 0, count: k - reduced.count)

        let tableSize = 16
        // table (16 entries), accumulator, selected entry, one, scratch (k + 2)
        var workspace = [UInt64](repeating: 0, count: (tableSize + 4) * k + 2)
        workspace.withUnsafeMutableBufferPointer { space in
            guard let start = space.baseAddress else { return }
            let table = start
            let accumulator = start + tableSize * k
            let selected = accumulator + k
            let one = selected + k
            let scratch = one + k
            one[0] = 1

            rSquared.withUnsafeBufferPointer { r2 in
                modulus.limbs.withUnsafeBufferPointer { n in
                    reducedBase.withUnsafeBufferPointer { b in
                        guard let r2 = r2.baseAddress, let n = n.baseAddress, let b = b.baseAddress else { return }
                        // table[i] = base^i * R mod modulus
                        Self.multiply(r2, one, into: table, scratch: scratch, modulus: n, inverse: inverse, count: k)
                        Self.multiply(r2, b, into: table + k, scratch: scratch, modulus: n, inverse: inverse, count: k)
                        for entry in 2..<tableSize {
                            Self.multiply(table + (entry - 1) * k, table + k, into: table + entry * k,
                                          scratch: scratch, modulus: n, inverse: inverse, count: k)
                        }
                        accumulator.update(from: table, count: k)

                        let windowCount = (exponent.bitWidth + 3) / 4
                        for window in stride(from: windowCount - 1, through: 0, by: -1) {
                            for _ in 0..<4 {
                                Self.multiply(accumulator, accumulator, into: accumulator,
                                              scratch: scratch, modulus: n, inverse: inverse, count: k)
                            }
                            let digit = Self.window(of: exponent, at: window * 4)
                            Self.select(entry: digit, from: table, into: selected, count: k)
                            Self.multiply(accumulator, selected, into: accumulator,
                                          scratch: scratch, modulus: n, inverse: inverse, count: k)
                        }
                        Self.multiply(accumulator, one, into: accumulator,
                                      scratch: scratch, modulus: n, inverse: inverse, count: k)
                    }
                }
            }
        }
        return BigUInt(limbs: Array(workspace[(tableSize * k)..<(tableSize * k + k)]))
    }

    private static func window(of exponent: BigUInt, at bitIndex: Int) -> Int {
        let limb = exponent.limbs[bitIndex / 64]
        return Int((limb &>> UInt64(bitIndex % 64)) & 0xf)
    }

    /// Reads every entry, keeping the wanted one by mask, so that the memory
    /// access pattern does not depend on the exponent.
    private static func select(entry wanted: Int, from table: UnsafePointer<UInt64>,
                               into selected: UnsafeMutablePointer<UInt64>, count k: Int) {
        selected.update(repeating: 0, count: k)
        for entry in 0..<16 {
            let mask = 0 &- UInt64(entry == wanted ? 1 : 0)
            let row = table + entry * k
            for index in 0..<k {
                selected[index] |= row[index] & mask
            }
        }
    }

    /// result = a * b * R^-1 mod modulus (CIOS). `result` may be `a` or `b`:
    /// it is written only after both have been read in full.
    private static func multiply(
        _ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, into result: UnsafeMutablePointer<UInt64>,
        scratch t: UnsafeMutablePointer<UInt64>, modulus n: UnsafePointer<UInt64>, inverse: UInt64, count k: Int
    ) {
        t.update(repeating: 0, count: k + 2)
        for i in 0..<k {
            let multiplier = b[i]
            var carry: UInt64 = 0
            for j in 0..<k {
                (t[j], carry) = Limb.multiplyAdd(a[j], multiplier, t[j], carry)
            }
            (t[k], t[k + 1]) = Limb.add(t[k], carry, 0)

            // Adding m * modulus clears the lowest limb, which is then dropped.
            let m = t[0] &* inverse
            carry = Limb.multiplyAdd(m, n[0], t[0], 0).high
            for j in 1..<k {
                (t[j - 1], carry) = Limb.multiplyAdd(m, n[j], t[j], carry)
            }
            let (shifted, shiftedCarry) = Limb.add(t[k], carry, 0)
            t[k - 1] = shifted
            t[k] = t[k + 1] &+ shiftedCarry
        }

        // t < 2 * modulus: subtract once if t >= modulus, without branching.
        var borrow: UInt64 = 0
        for j in 0..<k {
            (result[j], borrow) = Limb.subtract(t[j], n[j], borrow)
        }
        // Keep the difference when t had a top limb or the subtraction did not borrow.
        let keepDifference = t[k] | (1 &- borrow)
        let mask = 0 &- keepDifference
        for j in 0..<k {
            result[j] = (result[j] & mask) | (t[j] & ~mask)
        }
    }
}
