/// OpenSSH's own private key format (PROTOCOL.key in OpenSSH's sources), as
/// `ssh-keygen` writes it by default since 7.8.
enum OpenSSHKeyDecoder {
    private static let magic = Array("openssh-key-v1".utf8) + [0]

    static func decode(_ blob: [UInt8]) throws -> RSAKeyComponents {
        guard blob.starts(with: magic) else {
            throw malformed("the data does not start with openssh-key-v1")
        }
        var reader = SSHWireReader(Array(blob.dropFirst(magic.count)))
        let cipher = try reader.readName(name: "cipher name")
        let kdf = try reader.readName(name: "KDF name")
        _ = try reader.readString(name: "KDF options")
        let keyCount = try reader.readUInt32(name: "key count")
        guard keyCount == 1 else {
            throw malformed("the file holds \(keyCount) keys, expected 1")
        }
        var publicKey = SSHWireReader(try reader.readString(name: "key"))
        let publicType = try publicKey.readName(name: "key type")
        guard cipher == "none" else {
            throw CryptoError.encryptedKey(found: "OpenSSH \(publicType) key encrypted with \(cipher)")
        }
        guard kdf == "none" else {
            throw malformed("KDF \(kdf) without a cipher")
        }
        guard publicType == "ssh-rsa" else {
            throw CryptoError.unsupportedKeyType(found: "\(publicType) (OpenSSH)")
        }
        let publicExponent = try publicKey.readMPInt(name: "exponent")
        let publicModulus = try publicKey.readMPInt(name: "modulus")

        var section = SSHWireReader(try reader.readString(name: "private section"))
        guard reader.remaining.isEmpty else {
            throw malformed("bytes follow the private section")
        }
        // Equal check integers are how OpenSSH tells a right passphrase; here,
        // with no cipher, a difference means a damaged file.
        let check1 = try section.readUInt32(name: "check integer")
        let check2 = try section.readUInt32(name: "check integer")
        guard check1 == check2 else {
            throw malformed("the check integers differ")
        }
        let privateType = try section.readName(name: "private key type")
        guard privateType == "ssh-rsa" else {
            throw malformed("the private key type \(privateType) differs from the one ssh-rsa")
        }
        // OpenSSH's order: n, e, d, iqmp, p, q.
        let modulus = try section.readMPInt(name: "n")
        let exponent = try section.readMPInt(name: "e")
        let privateExponent = try section.readMPInt(name: "d")
        let coefficient = try section.readMPInt(name: "iqmp")
        let primeP = try section.readMPInt(name: "p")
        let primeQ = try section.readMPInt(name: "q")
        _ = try section.readString(name: "comment")
        // Padding 1, 2, 3, ... up to the cipher's block size (8 for none).
        let padding = section.remaining
        guard padding.count < 8, padding.elementsEqual((0..<padding.count).map { UInt8($0 + 1) }) else {
            throw malformed("the padding after the key is not 1, 2, 3, ...")
        }
        guard modulus == publicModulus, exponent == publicExponent else {
            throw CryptoError.inconsistentKey(reason: "the key in the file does not match the private key")
        }
        return RSAKeyComponents(
            modulus: modulus,
            publicExponent: exponent,
            privateExponent: privateExponent,
            primeP: primeP,
            primeQ: primeQ,
            exponentP: nil,
            exponentQ: nil,
            coefficient: coefficient)
    }

    private static func malformed(_ reason: String) -> CryptoError {
        .malformedKey(format: "OpenSSH", reason: reason)
    }
}
