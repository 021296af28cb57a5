import Foundation
import XCTest
@testable import RedisAutopilot

/// What the key parser refuses, and that it refuses by throwing: encrypted and
/// non-RSA keys from the real tools, and a table of broken inputs.
final class PrivateKeyParsingTests: XCTestCase {
    private var scratch: CryptoScratchDirectory!
    private var fixtureText: String { RSAKnownAnswerTests.publishedTestKey }

    override func setUpWithError() throws {
        scratch = try CryptoScratchDirectory()
    }

    override func tearDown() {
        scratch = nil
    }

    // MARK: keys from the tools

    func testEncryptedPKCS1PEMIsRefused() throws {
        let path = try writeFixture("plain.pem")
        try CryptoTestCommand.output(["openssl", "rsa", "-in", path, "-traditional", "-aes128", "-passout", "pass:secret",
                                      "-out", scratch.path("encrypted.pem")])
        let text = try String(contentsOfFile: scratch.path("encrypted.pem"), encoding: .utf8)
        XCTAssertTrue(text.contains("Proc-Type: 4,ENCRYPTED"))
        assertRefused(text) { if case .encryptedKey(let found) = $0 { return found.contains("Proc-Type") } else { return false } }
    }

    func testEncryptedPKCS8IsRefused() throws {
        let path = try writeFixture("plain.pem")
        try CryptoTestCommand.output(["openssl", "pkcs8", "-topk8", "-in", path, "-passout", "pass:secret",
                                      "-out", scratch.path("encrypted.pem")])
        let text = try String(contentsOfFile: scratch.path("encrypted.pem"), encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        assertRefused(text) { $0 == .encryptedKey(found: "PKCS#8 ENCRYPTED PRIVATE KEY") }
    }

    func testEncryptedOpenSSHKeyIsRefusedNamingItsCipher() throws {
        let path = try writeFixture("key")
        try CryptoTestCommand.output(["ssh-keygen", "-q", "-p", "-P", "", "-N", "a passphrase", "-f", path])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----"))
        assertRefused(text) { $0 == .encryptedKey(found: "OpenSSH ssh-rsa key encrypted with aes256-ctr") }
    }

    func testOpenSSHEd25519AndECDSAKeysAreRefusedByType() throws {
        for (type, name) in [("ed25519", "ssh-ed25519"), ("ecdsa", "ecdsa-sha2-nistp256")] {
            let path = scratch.path(type)
            try CryptoTestCommand.output(["ssh-keygen", "-q", "-t", type, "-N", "", "-f", path])
            assertRefused(try String(contentsOfFile: path, encoding: .utf8)) {
                $0 == .unsupportedKeyType(found: "\(name) (OpenSSH)")
            }
        }
        let encrypted = scratch.path("ed25519-encrypted")
        try CryptoTestCommand.output(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", encrypted])
        assertRefused(try String(contentsOfFile: encrypted, encoding: .utf8)) {
            $0 == .encryptedKey(found: "OpenSSH ssh-ed25519 key encrypted with aes256-ctr")
        }
    }

    func testOpenSSLEd25519AndECKeysAreRefusedByType() throws {
        let ed25519 = try CryptoTestCommand.output(["openssl", "genpkey", "-algorithm", "ed25519"])
        assertRefused(ed25519) { $0 == .unsupportedKeyType(found: "an Ed25519 key (PKCS#8, OID 1.3.101.112)") }
        let ecPKCS8 = try CryptoTestCommand.output(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        assertRefused(ecPKCS8) { $0 == .unsupportedKeyType(found: "an EC (ECDSA) key (PKCS#8, OID 1.2.840.10045.2.1)") }
        let ecTraditional = try CryptoTestCommand.output(["openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout"])
        assertRefused(ecTraditional) { $0 == .unsupportedKeyType(found: "an EC (ECDSA) key (PEM EC PRIVATE KEY)") }
    }

    func testPublicKeyAndCertificateBlocksAreNotPrivateKeys() throws {
        let path = try writeFixture("plain.pem")
        let publicKey = try CryptoTestCommand.output(["openssl", "rsa", "-in", path, "-pubout"])
        assertRefused(publicKey) { $0 == .unsupportedPEMLabel("PUBLIC KEY") }
        assertRefused("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----") { $0 == .unsupportedPEMLabel("CERTIFICATE") }
    }

    func testSyntheticOpenSSHKeyMatchesTheFixture() throws {
        let key = try RSAPrivateKey(parsing: TestKeyEncoding.pem("OPENSSH PRIVATE KEY", TestKeyEncoding.openSSH(fixtureComponents())))
        XCTAssertEqual(key.md5Fingerprint, "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38")
        let signature = try key.sign(RSAKnownAnswerTests.signingString, digest: .sha256)
        XCTAssertEqual(Data(signature).base64EncodedString(), RSAKnownAnswerTests.publishedSignature)
    }

    func testPKCS8WrappingOfTheFixtureParses() throws {
        let der = TestKeyEncoding.pkcs8(TestKeyEncoding.pkcs1(try fixtureComponents()))
        let key = try RSAPrivateKey(parsing: TestKeyEncoding.pem("PRIVATE KEY", der))
        XCTAssertEqual(key.md5Fingerprint, "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38")
    }

    // MARK: malformed input

    func testBrokenPEMTable() {
        let body = "MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF"
        let cases: [(String, String, (CryptoError) -> Bool)] = [
            ("empty", "", { $0 == .noPEMBlock }),
            ("not PEM", "ssh-rsa AAAAB3NzaC1yc2E", { $0 == .noPEMBlock }),
            ("BEGIN without dashes", "-----BEGIN RSA PRIVATE KEY\n\(body)", Self.isMalformed("PEM")),
            ("no END", "-----BEGIN RSA PRIVATE KEY-----\n\(body)\n", Self.isMalformed("PEM")),
            ("END of another label", "-----BEGIN RSA PRIVATE KEY-----\n\(body)\n-----END PRIVATE KEY-----", Self.isMalformed("PEM")),
            ("empty body", "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----", Self.isMalformed("PEM")),
            ("bad base64", "-----BEGIN RSA PRIVATE KEY-----\nMIIC*XgIB\n-----END RSA PRIVATE KEY-----", Self.isMalformed("PEM")),
            ("base64 cut short", "-----BEGIN RSA PRIVATE KEY-----\nMIICX\n-----END RSA PRIVATE KEY-----", Self.isMalformed("PEM")),
            ("label of key text", "-----BEGIN \(body)-----\nAAAA\n-----END \(body)-----",
             { $0 == .unsupportedPEMLabel("(unreadable label)") }),
        ]
        for (name, text, expected) in cases {
            assertRefused(text, name, expected)
        }
    }

    func testBrokenDERTable() throws {
        let components = try fixtureComponents()
        let good = TestKeyEncoding.pkcs1(components)
        XCTAssertEqual(good, try PEMBlock(parsing: fixtureText).decodedBody(), "the test encoder must reproduce the fixture")
        let fields = TestKeyEncoding.pkcs1Fields(components)
        let sequence = { (fields: [[UInt8]]) in TestKeyEncoding.element(0x30, fields.flatMap { $0 }) }
        let replacing = { (index: Int, field: [UInt8]) -> [UInt8] in
            var changed = fields
            changed[index] = field
            return sequence(changed)
        }

        var withLengthPastEnd = good
        withLengthPastEnd[3] = 0xff
        var indefinite = good
        indefinite[1] = 0x80
        let cases: [(String, [UInt8], (CryptoError) -> Bool)] = [
            ("outer length past the end", withLengthPastEnd, Self.isMalformed("PKCS#1")),
            ("indefinite length", indefinite, Self.isMalformed("PKCS#1")),
            ("five-byte length", [0x30, 0x85, 0, 0, 0, 0, 1, 0], Self.isMalformed("PKCS#1")),
            ("multi-byte tag", [0x3f, 0x01, 0x00], Self.isMalformed("PKCS#1")),
            ("not a SEQUENCE", TestKeyEncoding.element(0x31, Array(good.dropFirst(4))), Self.isMalformed("PKCS#1")),
            ("trailing bytes", good + [0], Self.isMalformed("PKCS#1")),
            ("extra field", sequence(fields + [TestKeyEncoding.integer(BigUInt(1))]), Self.isMalformed("PKCS#1")),
            ("missing coefficient", sequence(Array(fields.dropLast())), Self.isMalformed("PKCS#1")),
            ("negative modulus", replacing(1, TestKeyEncoding.element(0x02, [0x80, 1])), Self.isMalformed("PKCS#1")),
            ("empty integer", replacing(1, TestKeyEncoding.element(0x02, [])), Self.isMalformed("PKCS#1")),
            ("modulus as OCTET STRING", replacing(1, TestKeyEncoding.element(0x04, [1])), Self.isMalformed("PKCS#1")),
            ("multi-prime version", replacing(0, TestKeyEncoding.integer(BigUInt(1))),
             { $0 == .unsupportedKeyType(found: "a multi-prime RSA key") }),
            ("unknown version", replacing(0, TestKeyEncoding.integer(BigUInt(7))), Self.isMalformed("PKCS#1")),
            ("huge version", replacing(0, TestKeyEncoding.integer(BigUInt(UInt64.max))), Self.isMalformed("PKCS#1")),
        ]
        for (name, der, expected) in cases {
            assertRefused(TestKeyEncoding.pem("RSA PRIVATE KEY", der), name, expected)
        }
        for length in 0..<good.count {
            assertRefused(TestKeyEncoding.pem("RSA PRIVATE KEY", Array(good.prefix(length))), "cut at \(length)",
                          Self.isMalformed(length == 0 ? "PEM" : "PKCS#1"))
        }
    }

    func testBrokenPKCS8Table() throws {
        let inner = TestKeyEncoding.pkcs1(try fixtureComponents())
        let good = TestKeyEncoding.pkcs8(inner)
        let unknownAlgorithm = TestKeyEncoding.pkcs8(inner, algorithm: [0x2a, 0x03, 0x04])
        assertRefused(TestKeyEncoding.pem("PRIVATE KEY", unknownAlgorithm), "unknown OID") {
            $0 == .unsupportedKeyType(found: "a key of algorithm 1.2.3.4 (PKCS#8, OID 1.2.3.4)")
        }
        let brokenInner = TestKeyEncoding.pkcs8(Array(inner.dropLast(3)))
        assertRefused(TestKeyEncoding.pem("PRIVATE KEY", brokenInner), "inner key cut short", Self.isMalformed("PKCS#8"))
        for length in 1..<good.count {
            assertRefused(TestKeyEncoding.pem("PRIVATE KEY", Array(good.prefix(length))), "cut at \(length)", Self.isMalformed("PKCS#8"))
        }
    }

    func testBrokenOpenSSHTable() throws {
        let components = try fixtureComponents()
        let good = TestKeyEncoding.openSSH(components)
        var otherPublic = components
        otherPublic.publicExponent = BigUInt(3)
        let cases: [(String, [UInt8], (CryptoError) -> Bool)] = [
            ("wrong magic", Array("openssh-key-v2".utf8) + good.dropFirst(14), Self.isMalformed("OpenSSH")),
            ("check integers differ", TestKeyEncoding.openSSH(components, checks: (1, 2)), Self.isMalformed("OpenSSH")),
            ("two keys", TestKeyEncoding.openSSH(components, keyCount: 2), Self.isMalformed("OpenSSH")),
            ("bad padding", TestKeyEncoding.openSSH(components, padding: [1, 2, 4]), Self.isMalformed("OpenSSH")),
            ("long padding", TestKeyEncoding.openSSH(components, padding: Array(1...9)), Self.isMalformed("OpenSSH")),
            ("KDF without cipher", TestKeyEncoding.openSSH(components, kdf: "bcrypt"), Self.isMalformed("OpenSSH")),
            ("private type differs", TestKeyEncoding.openSSH(components, privateType: "ssh-dss"), Self.isMalformed("OpenSSH")),
            ("public key differs", TestKeyEncoding.openSSH(components, publicComponents: otherPublic),
             { if case .inconsistentKey = $0 { return true } else { return false } }),
            ("trailing bytes", good + [0, 0, 0, 0], Self.isMalformed("OpenSSH")),
            ("negative mpint", TestKeyEncoding.openSSH(components, negativeModulus: true), Self.isMalformed("OpenSSH")),
        ]
        for (name, blob, expected) in cases {
            assertRefused(TestKeyEncoding.pem("OPENSSH PRIVATE KEY", blob), name, expected)
        }
        for length in 1..<good.count {
            assertRefused(TestKeyEncoding.pem("OPENSSH PRIVATE KEY", Array(good.prefix(length))), "cut at \(length)",
                          Self.isMalformed("OpenSSH"))
        }
    }

    func testInconsistentNumbersAreRefused() throws {
        let components = try fixtureComponents()
        let one = BigUInt(1), two = BigUInt(2)
        var changes: [(String, RSAKeyComponents)] = []
        var wrongQ = components; wrongQ.primeQ = components.primeQ.adding(two); changes.append(("q", wrongQ))
        var wrongDP = components; wrongDP.exponentP = components.exponentP?.adding(one); changes.append(("dP", wrongDP))
        var wrongDQ = components; wrongDQ.exponentQ = components.exponentQ?.adding(one); changes.append(("dQ", wrongDQ))
        var wrongD = components; wrongD.exponentP = nil; wrongD.privateExponent = components.privateExponent.adding(two)
        changes.append(("d without CRT exponents", wrongD))
        var wrongCoefficient = components; wrongCoefficient.coefficient = components.coefficient.adding(one)
        changes.append(("coefficient", wrongCoefficient))
        var evenExponent = components; evenExponent.publicExponent = BigUInt(65538); changes.append(("e", evenExponent))
        for (name, changed) in changes {
            assertRefused(TestKeyEncoding.pem("RSA PRIVATE KEY", TestKeyEncoding.pkcs1(changed)), name) {
                if case .inconsistentKey = $0 { return true } else { return false }
            }
        }
        var small = components
        small.modulus = BigUInt(bigEndian: small.modulus.bigEndianBytes().prefix(64))
        assertRefused(TestKeyEncoding.pem("RSA PRIVATE KEY", TestKeyEncoding.pkcs1(small)), "512 bits") {
            $0 == .unsupportedKeySize(bits: 512)
        }
    }

    /// Random damage anywhere must end in an error or in a key whose
    /// signatures verify: never in a crash.
    func testRandomCorruptionNeverCrashes() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        let components = try fixtureComponents()
        let samples = [("RSA PRIVATE KEY", TestKeyEncoding.pkcs1(components)),
                       ("PRIVATE KEY", TestKeyEncoding.pkcs8(TestKeyEncoding.pkcs1(components))),
                       ("OPENSSH PRIVATE KEY", TestKeyEncoding.openSSH(components))]
        for (label, good) in samples {
            for _ in 0..<150 {
                var damaged = good
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    damaged[Int.random(in: 0..<damaged.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                do {
                    let key = try RSAPrivateKey(parsing: TestKeyEncoding.pem(label, damaged))
                    let signature = try key.sign([1, 2, 3], digest: .sha256)
                    XCTAssertTrue(key.publicKey.isValidSignature(signature, for: [1, 2, 3], digest: .sha256), "seed \(seed)")
                } catch {
                    XCTAssertTrue(error is CryptoError, "\(error), seed \(seed)")
                    assertNoKeyMaterial(in: "\(error)")
                }
            }
        }
    }

    // MARK: the fault guard

    func testAFaultInTheCRTIsCaughtBeforeTheSignatureLeaves() throws {
        let components = try fixtureComponents()
        let key = try RSAPrivateKey(components: components)
        let faulty = RSAPrivateKey(
            publicKey: key.publicKey,
            primeP: try XCTUnwrap(MontgomeryModulus(components.primeP)),
            primeQ: try XCTUnwrap(MontgomeryModulus(components.primeQ)),
            exponentP: try XCTUnwrap(components.exponentP).adding(BigUInt(1)),
            exponentQ: try XCTUnwrap(components.exponentQ),
            coefficient: components.coefficient)
        XCTAssertThrowsError(try faulty.sign(RSAKnownAnswerTests.signingString, digest: .sha256)) { error in
            XCTAssertEqual(error as? CryptoError, .signatureSelfCheckFailed)
        }
        XCTAssertNoThrow(try key.sign(RSAKnownAnswerTests.signingString, digest: .sha256))
    }

    // MARK: helpers

    private func fixtureComponents() throws -> RSAKeyComponents {
        try DERKeyDecoder.pkcs1(PEMBlock(parsing: fixtureText).decodedBody())
    }

    /// Writes the published test key with the permissions ssh-keygen insists on.
    private func writeFixture(_ name: String) throws -> String {
        let path = scratch.path(name)
        try fixtureText.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    private static func isMalformed(_ format: String) -> (CryptoError) -> Bool {
        { if case .malformedKey(format, _) = $0 { return true } else { return false } }
    }

    private func assertRefused(_ text: String, _ name: String = "", _ expected: (CryptoError) -> Bool,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RSAPrivateKey(parsing: text), name, file: file, line: line) { error in
            guard let cryptoError = error as? CryptoError else {
                return XCTFail("\(name): \(error) is no CryptoError", file: file, line: line)
            }
            XCTAssertTrue(expected(cryptoError), "\(name): unexpected \(cryptoError)", file: file, line: line)
            assertNoKeyMaterial(in: cryptoError.description, file: file, line: line)
        }
    }

    /// No run of the fixture's base64 and no byte of its numbers in hex.
    private func assertNoKeyMaterial(in message: String, file: StaticString = #filePath, line: UInt = #line) {
        let bodyLines = fixtureText.split(separator: "\n").filter { !$0.hasPrefix("-----") }
        for bodyLine in bodyLines {
            for start in stride(from: 0, to: bodyLine.count - 12, by: 12) {
                let piece = bodyLine.dropFirst(start).prefix(12)
                XCTAssertFalse(message.contains(piece), "error shows key text: \(message)", file: file, line: line)
            }
        }
    }
}

/// Encoders for building valid and subtly broken keys in tests.
enum TestKeyEncoding {
    static func pem(_ label: String, _ body: [UInt8]) -> String {
        let base64 = Data(body).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
    }

    static func element(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
        let count = contents.count
        let length: [UInt8] = count < 0x80
            ? [UInt8(count)]
            : { let bytes = BigUInt(UInt64(count)).bigEndianBytes(); return [0x80 | UInt8(bytes.count)] + bytes }()
        return [tag] + length + contents
    }

    static func integer(_ value: BigUInt) -> [UInt8] {
        var bytes = value.bigEndianBytes()
        if bytes.isEmpty || bytes[0] & 0x80 != 0 {
            bytes.insert(0, at: 0)
        }
        return element(0x02, bytes)
    }

    static func pkcs1Fields(_ key: RSAKeyComponents) -> [[UInt8]] {
        [BigUInt(), key.modulus, key.publicExponent, key.privateExponent, key.primeP, key.primeQ,
         key.exponentP ?? BigUInt(), key.exponentQ ?? BigUInt(), key.coefficient].map(integer)
    }

    static func pkcs1(_ key: RSAKeyComponents) -> [UInt8] {
        element(0x30, pkcs1Fields(key).flatMap { $0 })
    }

    /// rsaEncryption unless another OID's contents are given.
    static func pkcs8(_ pkcs1: [UInt8], algorithm: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]) -> [UInt8] {
        let identifier = element(0x30, element(0x06, algorithm) + [0x05, 0x00])
        return element(0x30, integer(BigUInt()) + identifier + element(0x04, pkcs1))
    }

    static func sshString(_ bytes: [UInt8]) -> [UInt8] {
        uint32(UInt32(bytes.count)) + bytes
    }

    static func uint32(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }

    static func mpint(_ value: BigUInt) -> [UInt8] {
        var bytes = value.bigEndianBytes()
        if let first = bytes.first, first & 0x80 != 0 {
            bytes.insert(0, at: 0)
        }
        return sshString(bytes)
    }

    static func openSSH(
        _ key: RSAKeyComponents, kdf: String = "none", keyCount: UInt32 = 1, checks: (UInt32, UInt32) = (0x1234_5678, 0x1234_5678),
        privateType: String = "ssh-rsa", publicComponents: RSAKeyComponents? = nil, padding: [UInt8]? = nil,
        negativeModulus: Bool = false
    ) -> [UInt8] {
        let shown = publicComponents ?? key
        let publicBlob = sshString(Array("ssh-rsa".utf8)) + mpint(shown.publicExponent) + mpint(shown.modulus)
        let modulus = negativeModulus ? sshString([0x80] + key.modulus.bigEndianBytes()) : mpint(key.modulus)
        var section = uint32(checks.0) + uint32(checks.1) + sshString(Array(privateType.utf8))
        section += modulus + mpint(key.publicExponent) + mpint(key.privateExponent)
        section += mpint(key.coefficient) + mpint(key.primeP) + mpint(key.primeQ) + sshString(Array("comment".utf8))
        section += padding ?? (0..<((8 - section.count % 8) % 8)).map { UInt8($0 + 1) }
        return Array("openssh-key-v1".utf8) + [0] + sshString(Array("none".utf8)) + sshString(Array(kdf.utf8))
            + sshString([]) + uint32(keyCount) + sshString(publicBlob) + sshString(section)
    }
}
