/// Why a private key could not be used. Descriptions name what was found and
/// where, never key material: at most a PEM label, a key type or a cipher
/// name, and only when it looks like one.
enum CryptoError: Error, Equatable, CustomStringConvertible {
    /// No `-----BEGIN ...-----` line in the text.
    case noPEMBlock
    /// A PEM block that holds no private key this program reads (e.g. a certificate).
    case unsupportedPEMLabel(String)
    /// The key is protected by a passphrase; `found` says how it was recognised.
    case encryptedKey(found: String)
    /// A private key of another algorithm than RSA.
    case unsupportedKeyType(found: String)
    /// The structure is broken: `format` is PEM, PKCS#1, PKCS#8 or OpenSSH.
    case malformedKey(format: String, reason: String)
    /// The numbers were read but do not make an RSA key.
    case inconsistentKey(reason: String)
    case unsupportedKeySize(bits: Int)
    /// The signature did not pass its own check with the exponent: a
    /// computation fault, so the signature was withheld rather than leak the key.
    case signatureSelfCheckFailed

    var description: String {
        switch self {
        case .noPEMBlock:
            return "no private key found: expected a PEM block such as -----BEGIN RSA PRIVATE KEY-----"
        case .unsupportedPEMLabel(let label):
            return "the PEM block is '\(label)', not a private key (expected RSA PRIVATE KEY, PRIVATE KEY or OPENSSH PRIVATE KEY)"
        case .encryptedKey(let found):
            return "the private key is encrypted (\(found)); give it without a passphrase"
        case .unsupportedKeyType(let found):
            return "the private key is \(found), not RSA; only RSA keys can sign here"
        case .malformedKey(let format, let reason):
            return "malformed \(format) private key: \(reason)"
        case .inconsistentKey(let reason):
            return "the RSA private key is inconsistent: \(reason)"
        case .unsupportedKeySize(let bits):
            return "RSA keys of \(bits) bits are not supported (1024 to 16384)"
        case .signatureSelfCheckFailed:
            return "the RSA signature failed its own verification (computation fault); nothing was sent"
        }
    }

    /// A PEM label for an error message: shown only if it looks like one
    /// (capitals, digits, spaces), so that a pasted key with a broken BEGIN
    /// line cannot reach a log through an error.
    static func label(_ text: String) -> String {
        let allowed = text.utf8.allSatisfy { (0x41...0x5a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x20 }
        return allowed && text.utf8.count <= 40 ? text : "(unreadable label)"
    }

    /// A key type or cipher name from a binary key for an error message: shown
    /// only if short and made of the characters such names use.
    static func name(_ bytes: [UInt8]) -> String {
        let allowed = bytes.allSatisfy {
            (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || (0x30...0x39).contains($0)
                || $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
        return allowed && bytes.count <= 64 ? String(decoding: bytes, as: UTF8.self) : "(unreadable name)"
    }
}
