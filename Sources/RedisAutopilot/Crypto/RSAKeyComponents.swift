/// The numbers of an RSA private key as a key file gives them, before they
/// are checked. OpenSSH files carry no CRT exponents; they are derived from d.
struct RSAKeyComponents {
    var modulus: BigUInt
    var publicExponent: BigUInt
    var privateExponent: BigUInt
    var primeP: BigUInt
    var primeQ: BigUInt
    var exponentP: BigUInt?
    var exponentQ: BigUInt?
    /// q^-1 mod p.
    var coefficient: BigUInt
}
