/// Word arithmetic for the big integers. Carries and borrows come from the
/// operands' top bits (Hacker's Delight, section 2-16), not from comparisons
/// or overflow flags, so that no branch depends on key material.
enum Limb {
    /// a * b + addend + carry, which never exceeds 2^128 - 1.
    @inline(__always)
    static func multiplyAdd(_ a: UInt64, _ b: UInt64, _ addend: UInt64, _ carry: UInt64) -> (low: UInt64, high: UInt64) {
        let (high, low) = a.multipliedFullWidth(by: b)
        let first = low &+ addend
        let second = first &+ carry
        return (second, high &+ carryBit(low, addend, first) &+ carryBit(first, carry, second))
    }

    /// x + y + carry, with carry 0 or 1.
    @inline(__always)
    static func add(_ x: UInt64, _ y: UInt64, _ carry: UInt64) -> (sum: UInt64, carry: UInt64) {
        let sum = x &+ y &+ carry
        return (sum, carryBit(x, y, sum))
    }

    /// x - y - borrow, with borrow 0 or 1.
    @inline(__always)
    static func subtract(_ x: UInt64, _ y: UInt64, _ borrow: UInt64) -> (difference: UInt64, borrow: UInt64) {
        let difference = x &- y &- borrow
        return (difference, ((~x & y) | ((~x | y) & difference)) &>> 63)
    }

    @inline(__always)
    private static func carryBit(_ x: UInt64, _ y: UInt64, _ sum: UInt64) -> UInt64 {
        ((x & y) | ((x | y) & ~sum)) &>> 63
    }
}
