import Foundation
import XCTest
@testable import RedisAutopilot

final class MantaRequestSignerTests: XCTestCase {
    /// 2014-01-05 21:31:40 UTC. The draft writes it "Thu, 05 Jan 2014
    /// 21:31:40 GMT", though that day was a Sunday: its known answer signs
    /// that literal string, so the test signs it as given.
    private static let draftDate = Date(timeIntervalSince1970: 1_388_957_500)
    private static let draftDateHeader = "Thu, 05 Jan 2014 21:31:40 GMT"
    private static let draftFingerprint = "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38"

    private func draftKey() throws -> RSAPrivateKey {
        try RSAPrivateKey(parsing: RSAKnownAnswerTests.publishedTestKey)
    }

    func testKnownAnswerOfTheHTTPSignaturesDraft() throws {
        let signer = try MantaRequestSigner(user: "alice", privateKey: try draftKey())
        let authorization = try signer.authorization(date: Self.draftDateHeader)
        XCTAssertEqual(authorization,
                       "Signature keyId=\"/alice/keys/\(Self.draftFingerprint)\",algorithm=\"rsa-sha256\","
                       + "signature=\"\(RSAKnownAnswerTests.publishedSignature)\"")
        XCTAssertTrue(authorization.contains("signature=\"jKyvPcxB4JbmYY4m"))
        XCTAssertFalse(authorization.contains(", "), "Manta's parser refuses a space after a comma")
        XCTAssertEqual(signer.keyID, "/alice/keys/\(Self.draftFingerprint)")
    }

    func testSignSetsDateFromTheClockAndSignsExactlyThatDate() throws {
        let signer = try MantaRequestSigner(user: "alice", privateKey: try draftKey(), clock: { Self.draftDate })
        var headers = HTTPHeaders([("Content-Type", "application/gzip")])
        try signer.sign(&headers)
        XCTAssertEqual(headers["Date"], "Sun, 05 Jan 2014 21:31:40 GMT")
        XCTAssertEqual(headers["Authorization"], try signer.authorization(date: "Sun, 05 Jan 2014 21:31:40 GMT"))
        XCTAssertNotEqual(headers["Authorization"], try signer.authorization(date: Self.draftDateHeader))
        XCTAssertNil(headers["Role"])
        XCTAssertEqual(headers["Content-Type"], "application/gzip")
    }

    func testSubuserKeyIDAndRoleHeader() throws {
        let signer = try MantaRequestSigner(user: "alice", subuser: "backup", roles: ["operator", "writer"],
                                            privateKey: try draftKey(), clock: { Self.draftDate })
        var headers = HTTPHeaders()
        try signer.sign(&headers)
        XCTAssertEqual(signer.keyID, "/alice/backup/keys/\(Self.draftFingerprint)")
        XCTAssertTrue(try XCTUnwrap(headers["Authorization"]).hasPrefix("Signature keyId=\"/alice/backup/keys/b4:fd:"))
        XCTAssertEqual(headers["Role"], "operator,writer")
    }

    func testSigningTwiceReplacesTheHeadersAndFollowsTheClock() throws {
        let times = TimeSequence([Self.draftDate, Self.draftDate.addingTimeInterval(61)])
        let signer = try MantaRequestSigner(user: "alice", roles: ["r"], privateKey: try draftKey(), clock: { times.next() })
        var headers = HTTPHeaders()
        try signer.sign(&headers)
        try signer.sign(&headers)
        XCTAssertEqual(headers.values("Date"), ["Sun, 05 Jan 2014 21:32:41 GMT"])
        XCTAssertEqual(headers.values("Authorization").count, 1)
        XCTAssertEqual(headers.values("Role"), ["r"])
        XCTAssertEqual(headers["Authorization"], try signer.authorization(date: "Sun, 05 Jan 2014 21:32:41 GMT"))
    }

    func testHTTPDateMatchesPOSIXLocaleFormatterOverManyDates() {
        let reference = DateFormatter()
        reference.locale = Locale(identifier: "en_US_POSIX")
        reference.timeZone = TimeZone(identifier: "GMT")
        reference.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SplitMix64(seed: 11)
        let fixed: [Double] = [0, 951_782_400 /* 2000-02-29 */, 1_388_957_500, 4_102_444_799 /* 2099-12-31 23:59:59 */]
        let random = (0..<2000).map { _ in Double(generator.next() % 4_102_444_800) + Double(generator.next() % 1000) / 1000 }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            XCTAssertEqual(MantaRequestSigner.httpDate(date), reference.string(from: date), "at \(seconds)")
        }
        XCTAssertEqual(MantaRequestSigner.httpDate(Date(timeIntervalSince1970: 0)), "Thu, 01 Jan 1970 00:00:00 GMT")
        // Fractions are cut, not rounded: the header names the second the request was signed in.
        XCTAssertEqual(MantaRequestSigner.httpDate(Date(timeIntervalSince1970: 1_388_957_500.999)), "Sun, 05 Jan 2014 21:31:40 GMT")
    }

    func testKeyIDAcceptedInEveryFingerprintFormSettingsRead() throws {
        let key = try draftKey()
        let sha256 = key.sha256Fingerprint
        XCTAssertTrue(sha256.hasPrefix("SHA256:"))
        for text in [Self.draftFingerprint, Self.draftFingerprint.uppercased(), "MD5:" + Self.draftFingerprint, sha256] {
            let signer = try MantaRequestSigner(user: "alice", privateKey: key, expectedKeyID: try MantaKeyID.parse(text))
            XCTAssertEqual(signer.keyID, "/alice/keys/\(Self.draftFingerprint)", "MANTA_KEY_ID \(text)")
        }
    }

    func testKeyIDOfAnotherKeyIsRefusedNamingTheVariable() throws {
        let key = try draftKey()
        let otherMD5 = try MantaKeyID.parse("b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:39")
        let otherSHA256 = MantaKeyID.sha256(SHA256.digest(key.publicKey.sshWireBlob + [0]))
        for given in [otherMD5, otherSHA256] {
            XCTAssertThrowsError(try MantaRequestSigner(user: "alice", privateKey: key, expectedKeyID: given)) { error in
                XCTAssertEqual(error as? MantaConfigurationError,
                               .keyIDMismatch(given: given, md5: Self.draftFingerprint, sha256: key.sha256Fingerprint))
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("MANTA_KEY_ID \(given) does not match MANTA_PRIVATE_KEY"), text)
                XCTAssertTrue(text.contains(Self.draftFingerprint) && text.contains(key.sha256Fingerprint), text)
                XCTAssertFalse(text.contains("MIIC"), "no key material in \(text)")
            }
        }
    }

    func testLoginsAndRolesThatWouldBreakTheHeaderOrPathAreRefused() throws {
        let key = try draftKey()
        for user in ["", "al/ice", "al\"ice", "al ice", "alïce", "al,ice", "al%ice", String(repeating: "a", count: 257)] {
            XCTAssertThrowsError(try MantaRequestSigner(user: user, privateKey: key)) { error in
                XCTAssertEqual(error as? MantaConfigurationError, .invalidUser(user))
                XCTAssertTrue("\(error)".hasPrefix("MANTA_USER"))
            }
            XCTAssertThrowsError(try MantaRequestSigner(user: "alice", subuser: user, privateKey: key)) { error in
                XCTAssertEqual(error as? MantaConfigurationError, .invalidSubuser(user))
                XCTAssertTrue("\(error)".hasPrefix("MANTA_SUBUSER"))
            }
        }
        for role in ["", "a,b", "a b", "a@b", "ops\r\nX-Evil: 1"] {
            XCTAssertThrowsError(try MantaRequestSigner(user: "alice", roles: ["good", role], privateKey: key)) { error in
                XCTAssertEqual(error as? MantaConfigurationError, .invalidRole(role))
                XCTAssertTrue("\(error)".hasPrefix("MANTA_ROLE"))
            }
        }
        XCTAssertNoThrow(try MantaRequestSigner(user: "a.l-i_c@e2", subuser: "B0b", roles: ["ops-1.x_y"], privateKey: key))
    }

    func testDescriptionsNeverShowTheKey() throws {
        let signer = try MantaRequestSigner(user: "alice", privateKey: try draftKey())
        var dumped = ""
        dump(signer, to: &dumped)
        for text in ["\(signer)", String(reflecting: signer), dumped] {
            XCTAssertTrue(text.contains("/alice/keys/\(Self.draftFingerprint)") || text.contains("RSAPrivateKey"), text)
            XCTAssertFalse(text.contains("MIIC"), text)
            XCTAssertFalse(text.contains("primeP"), text)
            XCTAssertFalse(text.contains("exponentP"), text)
        }
    }
}

/// Hands out the given dates in turn, then the last one again.
private final class TimeSequence: @unchecked Sendable {
    private var dates: [Date]
    private let lock = NSLock()

    init(_ dates: [Date]) {
        self.dates = dates
    }

    func next() -> Date {
        lock.lock()
        defer { lock.unlock() }
        return dates.count > 1 ? dates.removeFirst() : dates[0]
    }
}
