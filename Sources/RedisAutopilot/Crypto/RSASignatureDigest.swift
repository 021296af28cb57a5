/// The hash of an RSASSA-PKCS1-v1_5 signature (RFC 8017 section 9.2), as
/// HTTP Signatures name them: `rsa-sha256`, and `rsa-sha1` for old servers.
enum RSASignatureDigest: Sendable, CaseIterable {
    case sha256
    case sha1

    /// DER of DigestInfo's AlgorithmIdentifier and the OCTET STRING header
    /// (RFC 8017 section 9.2, note 1).
    private var digestInfoPrefix: [UInt8] {
        switch self {
        case .sha256:
            return [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        case .sha1:
            return [0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]
        }
    }

    private func digest(_ message: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: return SHA256.digest(message)
        case .sha1: return SHA1.digest(message)
        }
    }

    /// EMSA-PKCS1-v1_5: 00 01 FF..FF 00 DigestInfo, `length` bytes long.
    func encodedMessage(for message: [UInt8], length: Int) throws -> [UInt8] {
        let digestInfo = digestInfoPrefix + digest(message)
        // At least eight 0xFF bytes, as RFC 8017 requires.
        guard length >= digestInfo.count + 11 else {
            throw CryptoError.unsupportedKeySize(bits: length * 8)
        }
        return [0x00, 0x01] + [UInt8](repeating: 0xff, count: length - digestInfo.count - 3) + [0x00] + digestInfo
    }
}
