/// Why bytes are not valid RESP2. Offsets count bytes from the start of the
/// stream, so a report can be matched against a packet capture.
enum RESPError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidTypeByte(UInt8, offset: Int)
    /// An integer reply that is not a decimal number or does not fit 64 bits.
    case invalidInteger(text: String, offset: Int)
    /// A bulk string or array length that is not a number, is negative
    /// (other than -1 for null) or does not fit.
    case invalidLength(text: String, offset: Int)
    case bulkStringTooLong(length: Int, limit: Int, offset: Int)
    case lineTooLong(limit: Int, offset: Int)
    /// A line or bulk string not ended by CR LF where one must be.
    case missingCRLF(offset: Int)
    case nestingTooDeep(limit: Int, offset: Int)
    /// One reply, all its elements together, is larger than the limit.
    case replyTooLarge(limit: Int, offset: Int)
    /// A simple string or error holding CR or LF cannot be written as RESP2.
    case unencodable(String)

    var description: String {
        switch self {
        case let .invalidTypeByte(byte, offset):
            return "invalid RESP type byte 0x\(String(byte, radix: 16)) at offset \(offset)"
        case let .invalidInteger(text, offset):
            return "invalid RESP integer '\(text)' at offset \(offset)"
        case let .invalidLength(text, offset):
            return "invalid RESP length '\(text)' at offset \(offset)"
        case let .bulkStringTooLong(length, limit, offset):
            return "RESP bulk string of \(length) bytes exceeds the limit of \(limit) at offset \(offset)"
        case let .lineTooLong(limit, offset):
            return "RESP line longer than \(limit) bytes at offset \(offset)"
        case let .missingCRLF(offset):
            return "missing CR LF at offset \(offset)"
        case let .nestingTooDeep(limit, offset):
            return "RESP arrays nested deeper than \(limit) at offset \(offset)"
        case let .replyTooLarge(limit, offset):
            return "RESP reply starting at offset \(offset) exceeds the limit of \(limit) bytes"
        case let .unencodable(text):
            return "cannot encode as RESP2: \(text)"
        }
    }
}
