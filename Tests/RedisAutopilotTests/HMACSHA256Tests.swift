import XCTest
@testable import RedisAutopilot

/// RFC 4231 test cases 1 to 7.
final class HMACSHA256Tests: XCTestCase {
    private func bytes(_ value: UInt8, _ count: Int) -> [UInt8] {
        [UInt8](repeating: value, count: count)
    }

    func testCase1() {
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(for: "Hi There", key: bytes(0x0b, 20))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    func testCase2KeyShorterThanOutput() {
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(for: "what do ya want for nothing?", key: Array("Jefe".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testCase3() {
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(for: bytes(0xdd, 50), key: bytes(0xaa, 20))),
                       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
    }

    func testCase4() {
        let key = (1...25).map { UInt8($0) }
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(for: bytes(0xcd, 50), key: key)),
                       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
    }

    func testCase5Truncated() {
        let mac = HMACSHA256.authenticationCode(for: "Test With Truncation", key: bytes(0x0c, 20))
        XCTAssertEqual(Hex.encode(mac.prefix(16)), "a3b6167473100ee06e0c796c2955552b")
    }

    func testCase6KeyLargerThanBlock() {
        let mac = HMACSHA256.authenticationCode(for: "Test Using Larger Than Block-Size Key - Hash Key First",
                                                key: bytes(0xaa, 131))
        XCTAssertEqual(Hex.encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testCase7KeyAndDataLargerThanBlock() {
        let message = "This is a test using a larger than block-size key and a larger than block-size data."
            + " The key needs to be hashed before being used by the HMAC algorithm."
        XCTAssertEqual(Hex.encode(HMACSHA256.authenticationCode(for: message, key: bytes(0xaa, 131))),
                       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    func testStreamingMatchesOneShot() {
        var hmac = HMACSHA256(key: Array("Jefe".utf8))
        hmac.update("what do ya ")
        hmac.update("want for nothing?")
        XCTAssertEqual(Hex.encode(hmac.finalize()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testDescriptionDoesNotShowKeyedState() {
        let hmac = HMACSHA256(key: Array("secret-key".utf8))
        XCTAssertEqual("\(hmac)", "HMAC<SHA256>")
    }
}
