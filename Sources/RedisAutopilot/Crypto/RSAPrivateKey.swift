/// An RSA private key that signs with RSASSA-PKCS1-v1_5, read from the forms
/// keys come in: PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), PKCS#8 PEM
/// (`BEGIN PRIVATE KEY`) and OpenSSH (`BEGIN OPENSSH PRIVATE KEY`), all
/// unencrypted.
///
/// Its descriptions show only the size and fingerprint, so that the key never
/// reaches a log by being printed.
struct RSAPrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    static let supportedBitCounts = 1024...16384

    let publicKey: RSAPublicKey
    private let primeP: MontgomeryModulus
    private let primeQ: MontgomeryModulus
    /// d mod (p - 1) and d mod (q - 1).
    private let exponentP: BigUInt
    private let exponentQ: BigUInt
    /// q^-1 mod p.
    private let coefficient: BigUInt

    /// `text` may have `#` for newlines (the MANTA_PRIVATE_KEY convention),
    /// CRLF line ends and whitespace around it.
    init(parsing text: String) throws {
        let block = try PEMBlock(parsing: text)
        let components: RSAKeyComponents
        switch block.label {
        case "RSA PRIVATE KEY":
            guard !block.isEncrypted else {
                throw CryptoError.encryptedKey(found: "PEM RSA PRIVATE KEY with Proc-Type: 4,ENCRYPTED")
            }
            components = try DERKeyDecoder.pkcs1(block.decodedBody())
        case "PRIVATE KEY":
            components = try DERKeyDecoder.pkcs8(block.decodedBody())
        case "ENCRYPTED PRIVATE KEY":
            throw CryptoError.encryptedKey(found: "PKCS#8 ENCRYPTED PRIVATE KEY")
        case "OPENSSH PRIVATE KEY":
            components = try OpenSSHKeyDecoder.decode(block.decodedBody())
        case "EC PRIVATE KEY":
            throw CryptoError.unsupportedKeyType(found: "an EC (ECDSA) key (PEM EC PRIVATE KEY)")
        case "DSA PRIVATE KEY":
            throw CryptoError.unsupportedKeyType(found: "a DSA key (PEM DSA PRIVATE KEY)")
        default:
            throw CryptoError.unsupportedPEMLabel(block.label)
        }
        try self.init(components: components)
    }

    init(components: RSAKeyComponents) throws {
        let n = components.modulus, e = components.publicExponent
        let p = components.primeP, q = components.primeQ
        guard Self.supportedBitCounts.contains(n.bitWidth) else {
            throw CryptoError.unsupportedKeySize(bits: n.bitWidth)
        }
        guard let publicKey = RSAPublicKey(modulus: n, exponent: e) else {
            throw CryptoError.inconsistentKey(reason: "the modulus is even")
        }
        guard e.isOdd, e.bitWidth > 1, e < n else {
            throw CryptoError.inconsistentKey(reason: "the exponent is out of range")
        }
        guard p.multiplied(by: q) == n else {
            throw CryptoError.inconsistentKey(reason: "p × q is not the modulus")
        }
        guard let primeP = MontgomeryModulus(p), let primeQ = MontgomeryModulus(q),
              let pMinusOne = p.subtracting(BigUInt(1)), let qMinusOne = q.subtracting(BigUInt(1)) else {
            throw CryptoError.inconsistentKey(reason: "a prime factor is even")
        }
        let derivedP = components.exponentP ?? components.privateExponent.remainder(dividingBy: pMinusOne)
        let derivedQ = components.exponentQ ?? components.privateExponent.remainder(dividingBy: qMinusOne)
        guard let exponentP = derivedP, let exponentQ = derivedQ,
              e.multiplied(by: exponentP).remainder(dividingBy: pMinusOne) == BigUInt(1),
              e.multiplied(by: exponentQ).remainder(dividingBy: qMinusOne) == BigUInt(1) else {
            throw CryptoError.inconsistentKey(reason: "the private exponents do not invert the exponent")
        }
        guard q.multiplied(by: components.coefficient).remainder(dividingBy: p) == BigUInt(1) else {
            throw CryptoError.inconsistentKey(reason: "the CRT coefficient is not q^-1 mod p")
        }
        self.init(publicKey: publicKey, primeP: primeP, primeQ: primeQ,
                  exponentP: exponentP, exponentQ: exponentQ, coefficient: components.coefficient)
    }

    /// Unchecked: `init(components:)` checks; the tests use this one to
    /// plant a fault and see `sign` catch it.
    init(publicKey: RSAPublicKey, primeP: MontgomeryModulus, primeQ: MontgomeryModulus,
         exponentP: BigUInt, exponentQ: BigUInt, coefficient: BigUInt) {
        self.publicKey = publicKey
        self.primeP = primeP
        self.primeQ = primeQ
        self.exponentP = exponentP
        self.exponentQ = exponentQ
        self.coefficient = coefficient
    }

    var bitCount: Int { publicKey.bitCount }
    var md5Fingerprint: String { publicKey.md5Fingerprint }
    var sha256Fingerprint: String { publicKey.sha256Fingerprint }

    /// RSASSA-PKCS1-v1_5 over `message`, computed with the CRT and checked
    /// with the exponent before it is returned: a fault in either half
    /// of the CRT would otherwise reveal a prime factor in the signature.
    func sign(_ message: [UInt8], digest: RSASignatureDigest) throws -> [UInt8] {
        let length = (bitCount + 7) / 8
        let encoded = BigUInt(bigEndian: try digest.encodedMessage(for: message, length: length))
        let p = primeP.modulus, q = primeQ.modulus
        let partP = primeP.power(encoded, exponentP)
        let partQ = primeQ.power(encoded, exponentQ)
        // s = partQ + q * (coefficient * (partP - partQ) mod p); p is added
        // first so that the difference cannot go below zero.
        guard let difference = partP.adding(p).subtracting(primeP.reduce(partQ)) else {
            throw CryptoError.signatureSelfCheckFailed
        }
        let h = primeP.reduce(coefficient.multiplied(by: primeP.reduce(difference)))
        let signature = partQ.adding(q.multiplied(by: h))
        guard publicKey.modulus.power(signature, publicKey.exponent) == encoded,
              let bytes = signature.bigEndianBytes(count: length) else {
            throw CryptoError.signatureSelfCheckFailed
        }
        return bytes
    }

    func sign(_ message: String, digest: RSASignatureDigest) throws -> [UInt8] {
        try sign(Array(message.utf8), digest: digest)
    }

    var description: String { "RSAPrivateKey(\(bitCount) bits, \(sha256Fingerprint))" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}
