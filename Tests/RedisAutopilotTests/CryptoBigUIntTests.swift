import Foundation
import XCTest
@testable import RedisAutopilot

/// Big-integer arithmetic checked against Python's integers on random values.
final class CryptoBigUIntTests: XCTestCase {
    func testByteConversionsRoundTrip() {
        XCTAssertEqual(BigUInt(bigEndian: [UInt8]()).bigEndianBytes(), [])
        XCTAssertEqual(BigUInt(bigEndian: [0, 0, 1, 2]).bigEndianBytes(), [1, 2])
        XCTAssertEqual(BigUInt(bigEndian: [1, 2]).bigEndianBytes(count: 4), [0, 0, 1, 2])
        XCTAssertNil(BigUInt(bigEndian: [1, 2, 3]).bigEndianBytes(count: 2))
        let nineBytes: [UInt8] = [0x80, 1, 2, 3, 4, 5, 6, 7, 8]
        XCTAssertEqual(BigUInt(bigEndian: nineBytes).limbs, [0x0102_0304_0506_0708, 0x80])
        XCTAssertEqual(BigUInt(bigEndian: nineBytes).bitWidth, 72)
    }

    func testSubtractingBelowZeroIsNil() {
        XCTAssertNil(BigUInt(3).subtracting(BigUInt(4)))
        XCTAssertEqual(BigUInt(limbs: [0, 1]).subtracting(BigUInt(1)), BigUInt(UInt64.max))
    }

    func testDivisionByZeroIsNil() {
        XCTAssertNil(BigUInt(5).remainder(dividingBy: BigUInt()))
    }

    func testMontgomeryRefusesEvenOrTinyModulus() {
        XCTAssertNil(MontgomeryModulus(BigUInt(10)))
        XCTAssertNil(MontgomeryModulus(BigUInt(1)))
        XCTAssertNil(MontgomeryModulus(BigUInt()))
    }

    func testDescriptionHidesTheValue() {
        XCTAssertEqual("\(BigUInt(bigEndian: [0x12, 0x34]))", "BigUInt(13 bits)")
    }

    func testArithmeticMatchesPython() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var lines: [String] = []
        var ours: [String] = []
        for round in 0..<40 {
            let sizes = [1, 8, 9, 63, 64, 65, 128, 256, 384, 512]
            let a = BigUInt(bigEndian: random.bytes(sizes.randomElement(using: &random) ?? 1))
            let b = BigUInt(bigEndian: random.bytes(sizes.randomElement(using: &random) ?? 1))
            var modulusBytes = random.bytes(sizes.randomElement(using: &random) ?? 1)
            modulusBytes[modulusBytes.count - 1] |= 1
            if round % 4 == 0 {
                modulusBytes[0] |= 0x80
            }
            let modulus = BigUInt(bigEndian: modulusBytes)
            let exponent = BigUInt(bigEndian: random.bytes(round % 5 == 0 ? 3 : 16))
            lines.append([a, b, modulus, exponent].map { Hex.encode($0.bigEndianBytes()) }.joined(separator: " "))

            let difference = a < b ? b.subtracting(a) : a.subtracting(b)
            var row = [a.adding(b), difference ?? BigUInt(), a.multiplied(by: b)]
            row.append(a.remainder(dividingBy: modulus) ?? BigUInt())
            if let montgomery = MontgomeryModulus(modulus) {
                row.append(montgomery.power(a, exponent))
            } else {
                row.append(BigUInt())
            }
            ours.append(row.map { Hex.encode($0.bigEndianBytes()) }.joined(separator: " "))
        }

        let scratch = try CryptoScratchDirectory()
        let input = scratch.path("numbers")
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let script = """
            import sys
            h = lambda x: format(x, 'x') if x else ''
            def p(s): return int(s, 16) if s else 0
            for line in open(sys.argv[1]):
                a, b, m, e = (p(x) for x in line.rstrip('\\n').split(' '))
                pw = pow(a, e, m) if m > 1 else 0
                print(' '.join(h(v) for v in (a + b, abs(a - b), a * b, a % m, pw)))
            """
        let expected = try CryptoTestCommand.output(["python3", "-c", script, input])
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, row) in ours.enumerated() {
            XCTAssertEqual(normalizedHex(row), normalizedHex(expected[index]), "case \(index): \(lines[index]), seed \(seed)")
        }
    }

    /// Python prints no leading zeros; our bytes may start with one nibble of 0.
    private func normalizedHex(_ row: String) -> String {
        row.split(separator: " ", omittingEmptySubsequences: false).map { field -> String in
            let trimmed = field.drop { $0 == "0" }
            return String(trimmed)
        }.joined(separator: " ")
    }
}
