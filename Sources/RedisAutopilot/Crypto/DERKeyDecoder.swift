/// RSA private keys in DER: PKCS#1 `RSAPrivateKey` (RFC 8017 appendix A.1.2)
/// and the PKCS#8 `PrivateKeyInfo` wrapping of it (RFC 5208).
enum DERKeyDecoder {
    static let rsaEncryption = "1.2.840.113549.1.1.1"

    /// Algorithms that may appear in a PKCS#8 key, to name them in the error.
    private static let otherAlgorithms = [
        "1.2.840.10045.2.1": "an EC (ECDSA) key",
        "1.3.101.112": "an Ed25519 key",
        "1.3.101.113": "an Ed448 key",
        "1.3.101.110": "an X25519 key",
        "1.2.840.10040.4.1": "a DSA key",
        "1.2.840.113549.1.1.10": "an RSASSA-PSS-only key",
    ]

    static func pkcs1(_ der: [UInt8], format: String = "PKCS#1") throws -> RSAKeyComponents {
        var outer = DERReader(der, format: format)
        var key = try outer.readElement(tag: DERReader.sequenceTag, name: "RSAPrivateKey")
        guard outer.isAtEnd else {
            throw CryptoError.malformedKey(format: format, reason: "bytes follow the RSAPrivateKey")
        }
        let version = try key.readSmallInteger(name: "version")
        guard version == 0 else {
            if version == 1 {
                throw CryptoError.unsupportedKeyType(found: "a multi-prime RSA key")
            }
            throw CryptoError.malformedKey(format: format, reason: "unknown RSAPrivateKey version \(version)")
        }
        let components = RSAKeyComponents(
            modulus: try key.readInteger(name: "modulus"),
            publicExponent: try key.readInteger(name: "publicExponent"),
            privateExponent: try key.readInteger(name: "privateExponent"),
            primeP: try key.readInteger(name: "prime1"),
            primeQ: try key.readInteger(name: "prime2"),
            exponentP: try key.readInteger(name: "exponent1"),
            exponentQ: try key.readInteger(name: "exponent2"),
            coefficient: try key.readInteger(name: "coefficient"))
        guard key.isAtEnd else {
            throw CryptoError.malformedKey(format: format, reason: "unexpected fields after the coefficient")
        }
        return components
    }

    static func pkcs8(_ der: [UInt8]) throws -> RSAKeyComponents {
        let format = "PKCS#8"
        var outer = DERReader(der, format: format)
        var info = try outer.readElement(tag: DERReader.sequenceTag, name: "PrivateKeyInfo")
        guard outer.isAtEnd else {
            throw CryptoError.malformedKey(format: format, reason: "bytes follow the PrivateKeyInfo")
        }
        let version = try info.readSmallInteger(name: "version")
        guard version == 0 || version == 1 else {
            throw CryptoError.malformedKey(format: format, reason: "unknown PrivateKeyInfo version \(version)")
        }
        var algorithm = try info.readElement(tag: DERReader.sequenceTag, name: "privateKeyAlgorithm")
        let identifier = try algorithm.readObjectIdentifier(name: "algorithm")
        guard identifier == rsaEncryption else {
            let kind = otherAlgorithms[identifier] ?? "a key of algorithm \(identifier)"
            throw CryptoError.unsupportedKeyType(found: "\(kind) (PKCS#8, OID \(identifier))")
        }
        if algorithm.nextTag == DERReader.nullTag {
            try algorithm.skipElement(name: "parameters")
        }
        guard algorithm.isAtEnd else {
            throw CryptoError.malformedKey(format: format, reason: "rsaEncryption has unexpected parameters")
        }
        let privateKey = try info.readOctetString(name: "privateKey")
        // Optional attributes [0] and key [1] follow; RSA needs neither.
        return try pkcs1(privateKey, format: format)
    }
}
