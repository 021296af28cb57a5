import Foundation

/// The half of an RSA key: its fingerprints identify the key to Manta
/// (`MANTA_KEY_ID`), and it checks every signature before it is sent.
struct RSAPublicKey: Sendable, Equatable {
    let modulus: MontgomeryModulus
    let exponent: BigUInt

    /// nil unless the modulus is odd and above 1.
    init?(modulus: BigUInt, exponent: BigUInt) {
        guard let operations = MontgomeryModulus(modulus) else { return nil }
        self.modulus = operations
        self.exponent = exponent
    }

    var bitCount: Int { modulus.modulus.bitWidth }

    /// The key as OpenSSH writes it on the wire: string "ssh-rsa", mpint e, mpint n.
    var sshWireBlob: [UInt8] {
        Self.sshString(Array("ssh-rsa".utf8)) + Self.sshMPInt(exponent) + Self.sshMPInt(modulus.modulus)
    }

    /// `b4:fd:fa:...`, as `ssh-keygen -l -E md5` prints it (without the `MD5:`
    /// prefix) and as Manta expects in a key id.
    var md5Fingerprint: String {
        MD5.digest(sshWireBlob).map { Hex.encode([$0]) }.joined(separator: ":")
    }

    /// `SHA256:...`, as `ssh-keygen -l` prints it: base64 without padding.
    var sha256Fingerprint: String {
        let encoded = Data(SHA256.digest(sshWireBlob)).base64EncodedString()
        return "SHA256:" + encoded.replacingOccurrences(of: "=", with: "")
    }

    func isValidSignature(_ signature: [UInt8], for message: [UInt8], digest: RSASignatureDigest) -> Bool {
        let length = (bitCount + 7) / 8
        guard signature.count == length,
              let expected = try? digest.encodedMessage(for: message, length: length) else { return false }
        let value = BigUInt(bigEndian: signature)
        guard value < modulus.modulus else { return false }
        return modulus.power(value, exponent).bigEndianBytes(count: length) == expected
    }

    static func == (lhs: RSAPublicKey, rhs: RSAPublicKey) -> Bool {
        lhs.modulus.modulus == rhs.modulus.modulus && lhs.exponent == rhs.exponent
    }

    private static func sshString(_ bytes: [UInt8]) -> [UInt8] {
        let length = UInt32(bytes.count)
        return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + bytes
    }

    /// Minimal two's complement: a leading zero byte when the top bit is set.
    private static func sshMPInt(_ value: BigUInt) -> [UInt8] {
        var bytes = value.bigEndianBytes()
        if let first = bytes.first, first & 0x80 != 0 {
            bytes.insert(0, at: 0)
        }
        return sshString(bytes)
    }
}
