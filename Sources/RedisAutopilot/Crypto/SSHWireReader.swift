/// Reads the SSH wire encoding (RFC 4251: uint32, string, mpint) of an
/// OpenSSH private key, checking every length against what is left.
struct SSHWireReader {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: ArraySlice<UInt8> { bytes[position...] }

    mutating func readUInt32(name: String) throws -> UInt32 {
        guard bytes.count - position >= 4 else {
            throw malformed("\(name) is missing (the data ends early)")
        }
        let value = bytes[position..<(position + 4)].reduce(UInt32(0)) { ($0 << 8) | UInt32($1) }
        position += 4
        return value
    }

    mutating func readString(name: String) throws -> [UInt8] {
        let length = Int(try readUInt32(name: "\(name)'s length"))
        guard length <= bytes.count - position else {
            throw malformed("\(name) claims \(length) bytes but only \(bytes.count - position) remain")
        }
        let value = Array(bytes[position..<(position + length)])
        position += length
        return value
    }

    /// A key type or cipher name, fit for error messages.
    mutating func readName(name: String) throws -> String {
        CryptoError.name(try readString(name: name))
    }

    mutating func readMPInt(name: String) throws -> BigUInt {
        let value = try readString(name: name)
        if let first = value.first, first & 0x80 != 0 {
            throw malformed("\(name) is negative")
        }
        return BigUInt(bigEndian: value)
    }

    private func malformed(_ reason: String) -> CryptoError {
        .malformedKey(format: "OpenSSH", reason: reason)
    }
}
