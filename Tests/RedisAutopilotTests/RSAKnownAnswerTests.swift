import Foundation
import XCTest
@testable import RedisAutopilot

/// The known answer of the HTTP Signatures draft, as node-http-signature's
/// `http_signing.md` (Appendix A) and its tests publish it.
final class RSAKnownAnswerTests: XCTestCase {
    /// PUBLISHED TEST KEY, not a secret: the 1024-bit RSA key of the HTTP
    /// Signatures draft (draft-cavage-http-signatures, Appendix C;
    /// node-http-signature http_signing.md, Appendix A). It is printed in the
    /// draft and in many libraries' test suites and must never be trusted for
    /// anything.
    static let publishedTestKey = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
        NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
        UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
        AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
        QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
        kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
        f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
        412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
        mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
        kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
        gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
        G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
        7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
        -----END RSA PRIVATE KEY-----
        """

    /// The draft's default test: only the Date header is signed.
    static let signingString = "date: Thu, 05 Jan 2014 21:31:40 GMT"
    static let publishedSignature = "jKyvPcxB4JbmYY4mByyBY7cZfNl4OW9HpFQlG7N4YcJPteKTu4MWCLyk+gIr0wDgqtLWf9NLpMAMimdfsH7FSWGfbMFSrsVTHNTk0rK3usrfFnti1dxsM4jl0kYJCKTGI/UWkqiaxwNiKqGcdlEDrTcUhhsFsOIo8VhddmZTZ8w="

    func testSignatureMatchesThePublishedOne() throws {
        let key = try RSAPrivateKey(parsing: Self.publishedTestKey)
        let signature = try key.sign(Self.signingString, digest: .sha256)
        let encoded = Data(signature).base64EncodedString()
        XCTAssertTrue(encoded.hasPrefix("jKyvPcxB4JbmYY4m"))
        XCTAssertEqual(encoded, Self.publishedSignature)
    }

    func testFingerprintsAreThoseSSHKeygenPrints() throws {
        let key = try RSAPrivateKey(parsing: Self.publishedTestKey)
        XCTAssertEqual(key.bitCount, 1024)
        XCTAssertEqual(key.md5Fingerprint, "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38")
        XCTAssertEqual(key.sha256Fingerprint, "SHA256:ExiA/kCzfLSDlsIfB5h+g7Q3ym9F34KwQdv3jZWdxNI")
    }

    func testMantaStyleHashesCRLFAndWhitespaceParseToTheSameKey() throws {
        let variants = [
            Self.publishedTestKey.replacingOccurrences(of: "\n", with: "#"),
            Self.publishedTestKey.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n",
            "  \n\t" + Self.publishedTestKey.replacingOccurrences(of: "\n", with: "  \n  ") + "\n\n  ",
            "#" + Self.publishedTestKey.replacingOccurrences(of: "\n", with: "#") + "#",
        ]
        for variant in variants {
            let key = try RSAPrivateKey(parsing: variant)
            XCTAssertEqual(key.md5Fingerprint, "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38")
        }
    }

    func testPublicKeyAcceptsTheSignatureAndRejectsAnyChange() throws {
        let key = try RSAPrivateKey(parsing: Self.publishedTestKey)
        let message = Array(Self.signingString.utf8)
        let signature = try key.sign(message, digest: .sha256)
        XCTAssertTrue(key.publicKey.isValidSignature(signature, for: message, digest: .sha256))
        XCTAssertFalse(key.publicKey.isValidSignature(signature, for: message + [0x20], digest: .sha256))
        XCTAssertFalse(key.publicKey.isValidSignature(signature, for: message, digest: .sha1))
        var altered = signature
        altered[altered.count - 1] ^= 1
        XCTAssertFalse(key.publicKey.isValidSignature(altered, for: message, digest: .sha256))
        XCTAssertFalse(key.publicKey.isValidSignature(Array(signature.dropFirst()), for: message, digest: .sha256))
    }

    func testPrintingTheKeyShowsNoKeyMaterial() throws {
        let key = try RSAPrivateKey(parsing: Self.publishedTestKey)
        var dumped = ""
        dump(key, to: &dumped)
        for shown in ["\(key)", String(reflecting: key), dumped] {
            XCTAssertTrue(shown.contains("1024 bits"), shown)
            XCTAssertFalse(shown.contains("limbs"), shown)
            XCTAssertFalse(shown.contains("MIIC"), shown)
        }
    }
}
