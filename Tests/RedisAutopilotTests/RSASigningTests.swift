import Foundation
import XCTest
@testable import RedisAutopilot

/// Keys of 2048, 3072 and 4096 bits from each tool that writes them; every
/// signature must equal `openssl dgst -sign`'s byte for byte, and the
/// fingerprints must be those `ssh-keygen -l` prints.
final class RSASigningTests: XCTestCase {
    private enum Format: CaseIterable {
        case pkcs1, pkcs8, openSSH
    }

    private struct GeneratedKey: Sendable {
        let bits: Int
        let format: Format
        let path: String
        /// The same key in a form `openssl dgst -sign` reads.
        let openSSLPath: String
    }

    private struct GeneratedKeys: Sendable {
        let directory: String
        let keys: [GeneratedKey]
    }

    /// Generated once for the class: a 4096-bit key takes about a second.
    private static let generated = Result { try generateKeys() }

    override class func tearDown() {
        if case .success(let generated) = generated {
            try? FileManager.default.removeItem(atPath: generated.directory)
        }
        super.tearDown()
    }

    private static func generateKeys() throws -> GeneratedKeys {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rsa-signing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        var keys: [GeneratedKey] = []
        for bits in [2048, 3072, 4096] {
            // openssl 3 writes PKCS#8 unless told -traditional.
            let pkcs1 = "\(directory)/pkcs1-\(bits).pem"
            try CryptoTestCommand.output(["openssl", "genrsa", "-traditional", "-out", pkcs1, String(bits)])
            keys.append(GeneratedKey(bits: bits, format: .pkcs1, path: pkcs1, openSSLPath: pkcs1))

            let pkcs8 = "\(directory)/pkcs8-\(bits).pem"
            try CryptoTestCommand.output(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)", "-out", pkcs8])
            keys.append(GeneratedKey(bits: bits, format: .pkcs8, path: pkcs8, openSSLPath: pkcs8))

            // openssl cannot read OpenSSH keys: a PEM copy is its reference.
            let openSSH = "\(directory)/openssh-\(bits)"
            try CryptoTestCommand.output(["ssh-keygen", "-q", "-t", "rsa", "-b", String(bits), "-N", "", "-C", "test", "-f", openSSH])
            try FileManager.default.copyItem(atPath: openSSH, toPath: openSSH + ".pem")
            try CryptoTestCommand.output(["ssh-keygen", "-q", "-p", "-m", "PEM", "-P", "", "-N", "", "-f", openSSH + ".pem"])
            keys.append(GeneratedKey(bits: bits, format: .openSSH, path: openSSH, openSSLPath: openSSH + ".pem"))
        }
        return GeneratedKeys(directory: directory, keys: keys)
    }

    func testPKCS1KeysFromOpenSSLGenrsa() throws {
        try checkKeys(.pkcs1, begin: "-----BEGIN RSA PRIVATE KEY-----")
    }

    func testPKCS8KeysFromOpenSSLGenpkey() throws {
        try checkKeys(.pkcs8, begin: "-----BEGIN PRIVATE KEY-----")
    }

    func testOpenSSHKeysFromSSHKeygen() throws {
        try checkKeys(.openSSH, begin: "-----BEGIN OPENSSH PRIVATE KEY-----")
    }

    func testOpenSSHKeyWithHashesForNewlines() throws {
        let key = try XCTUnwrap(Self.generated.get().keys.first { $0.format == .openSSH })
        let text = try String(contentsOfFile: key.path, encoding: .utf8)
        let joined = try RSAPrivateKey(parsing: text.replacingOccurrences(of: "\n", with: "#"))
        XCTAssertEqual(joined.md5Fingerprint, try RSAPrivateKey(parsing: text).md5Fingerprint)
    }

    private func checkKeys(_ format: Format, begin: String) throws {
        let generated = try Self.generated.get()
        let scratch = try CryptoScratchDirectory()
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        for key in generated.keys where key.format == format {
            let text = try String(contentsOfFile: key.path, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix(begin), "\(key.path) starts \(text.prefix(40))")
            let parsed = try RSAPrivateKey(parsing: text)
            XCTAssertEqual(parsed.bitCount, key.bits)

            let md5Line = try CryptoTestCommand.output(["ssh-keygen", "-l", "-E", "md5", "-f", key.path])
            XCTAssertEqual("MD5:" + parsed.md5Fingerprint, fingerprintField(md5Line), key.path)
            let sha256Line = try CryptoTestCommand.output(["ssh-keygen", "-l", "-E", "sha256", "-f", key.path])
            XCTAssertEqual(parsed.sha256Fingerprint, fingerprintField(sha256Line), key.path)

            for (digest, name) in [(RSASignatureDigest.sha256, "sha256"), (.sha1, "sha1")] {
                let message = random.bytes(Int.random(in: 0...3000, using: &random))
                let messagePath = scratch.path("message"), signaturePath = scratch.path("signature")
                try Data(message).write(to: URL(fileURLWithPath: messagePath))
                try CryptoTestCommand.output(["openssl", "dgst", "-\(name)", "-sign", key.openSSLPath,
                                              "-out", signaturePath, messagePath])
                let reference = try [UInt8](Data(contentsOf: URL(fileURLWithPath: signaturePath)))
                let signature = try parsed.sign(message, digest: digest)
                XCTAssertEqual(signature, reference,
                               "\(key.bits)-bit \(format) key, \(name), \(message.count)-byte message, seed \(seed)")
                XCTAssertTrue(parsed.publicKey.isValidSignature(signature, for: message, digest: digest))
            }
        }
    }

    /// `2048 MD5:67:13:... comment (RSA)`: the second field.
    private func fingerprintField(_ line: String) -> String {
        let fields = line.split(separator: " ")
        return fields.count > 1 ? String(fields[1]) : line
    }
}
