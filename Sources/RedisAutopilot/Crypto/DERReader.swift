/// Reads the little of DER that private keys use: SEQUENCE, INTEGER, OBJECT
/// IDENTIFIER, OCTET STRING and NULL, with every length checked against what
/// is left, so that truncated or hostile input throws instead of crashing.
struct DERReader {
    static let sequenceTag: UInt8 = 0x30
    static let integerTag: UInt8 = 0x02
    static let octetStringTag: UInt8 = 0x04
    static let nullTag: UInt8 = 0x05
    static let objectIdentifierTag: UInt8 = 0x06

    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    private let format: String

    /// `format` names the structure in errors ("PKCS#1", "PKCS#8").
    init(_ bytes: [UInt8], format: String) {
        self.init(bytes, from: 0, to: bytes.count, format: format)
    }

    private init(_ bytes: [UInt8], from start: Int, to end: Int, format: String) {
        self.bytes = bytes
        position = start
        self.end = end
        self.format = format
    }

    var isAtEnd: Bool { position >= end }

    var nextTag: UInt8? { isAtEnd ? nil : bytes[position] }

    /// The contents of the next element, which must carry `tag`.
    mutating func readElement(tag expected: UInt8, name: String) throws -> DERReader {
        let (tag, contents) = try readAnyElement(name: name)
        guard tag == expected else {
            throw malformed("\(name): expected tag 0x\(hex(expected)), found 0x\(hex(tag))")
        }
        return contents
    }

    mutating func skipElement(name: String) throws {
        _ = try readAnyElement(name: name)
    }

    mutating func readInteger(name: String) throws -> BigUInt {
        let contents = try readElement(tag: Self.integerTag, name: name).remainingBytes
        guard let first = contents.first else {
            throw malformed("\(name) is an empty INTEGER")
        }
        guard first & 0x80 == 0 else {
            throw malformed("\(name) is negative")
        }
        return BigUInt(bigEndian: contents)
    }

    mutating func readSmallInteger(name: String) throws -> Int {
        let value = try readInteger(name: name)
        guard value.bitWidth <= 31 else {
            throw malformed("\(name) is out of range")
        }
        return Int(value.limbs.first ?? 0)
    }

    mutating func readOctetString(name: String) throws -> [UInt8] {
        try readElement(tag: Self.octetStringTag, name: name).remainingBytes
    }

    /// Dotted form, e.g. "1.2.840.113549.1.1.1".
    mutating func readObjectIdentifier(name: String) throws -> String {
        let contents = try readElement(tag: Self.objectIdentifierTag, name: name).remainingBytes
        guard let first = contents.first, contents.last.map({ $0 & 0x80 == 0 }) == true else {
            throw malformed("\(name) is not a valid OBJECT IDENTIFIER")
        }
        var arcs = [String(min(Int(first) / 40, 2)), String(Int(first) - 40 * min(Int(first) / 40, 2))]
        var value: UInt64 = 0
        for byte in contents.dropFirst() {
            guard value >> 57 == 0 else {
                throw malformed("\(name) has an arc too large")
            }
            value = (value << 7) | UInt64(byte & 0x7f)
            if byte & 0x80 == 0 {
                arcs.append(String(value))
                value = 0
            }
        }
        return arcs.joined(separator: ".")
    }

    private var remainingBytes: [UInt8] {
        Array(bytes[position..<end])
    }

    private mutating func readAnyElement(name: String) throws -> (tag: UInt8, contents: DERReader) {
        guard position < end else {
            throw malformed("\(name) is missing (the data ends early)")
        }
        let tag = bytes[position]
        guard tag & 0x1f != 0x1f else {
            throw malformed("\(name) has a multi-byte tag")
        }
        guard position + 1 < end else {
            throw malformed("\(name) has no length")
        }
        let firstLengthByte = bytes[position + 1]
        var cursor = position + 2
        var length = 0
        if firstLengthByte < 0x80 {
            length = Int(firstLengthByte)
        } else {
            let lengthByteCount = Int(firstLengthByte & 0x7f)
            guard lengthByteCount > 0 else {
                throw malformed("\(name) has an indefinite length, which DER forbids")
            }
            guard lengthByteCount <= 4 else {
                throw malformed("\(name) has a length field of \(lengthByteCount) bytes")
            }
            guard cursor + lengthByteCount <= end else {
                throw malformed("\(name)'s length runs past the end of the data")
            }
            for byte in bytes[cursor..<(cursor + lengthByteCount)] {
                length = (length << 8) | Int(byte)
            }
            cursor += lengthByteCount
        }
        guard length <= end - cursor else {
            throw malformed("\(name) claims \(length) bytes but only \(end - cursor) remain")
        }
        position = cursor + length
        return (tag, DERReader(bytes, from: cursor, to: cursor + length, format: format))
    }

    private func malformed(_ reason: String) -> CryptoError {
        .malformedKey(format: format, reason: reason)
    }

    private func hex(_ byte: UInt8) -> String {
        Hex.encode([byte])
    }
}
