/// One RESP2 value as it travels between a client and Redis. Bulk strings are
/// bytes because Redis keys and values are binary safe; `text` decodes them
/// when the caller knows they are text.
enum RESPValue: Sendable, Equatable, CustomStringConvertible {
    case simpleString(String)
    case error(String)
    case integer(Int64)
    case bulkString([UInt8])
    /// `$-1`: the reply for a missing key.
    case nullBulkString
    case array([RESPValue])
    /// `*-1`: for example a BLPOP that timed out.
    case nullArray

    /// A bulk string from text, as commands and most replies carry it.
    static func bulkString(_ text: String) -> RESPValue {
        .bulkString(Array(text.utf8))
    }

    /// The text of a simple or bulk string (bytes decoded as UTF-8).
    var text: String? {
        switch self {
        case let .simpleString(text): return text
        case let .bulkString(bytes): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    var integer: Int64? {
        if case let .integer(value) = self { return value }
        return nil
    }

    var array: [RESPValue]? {
        if case let .array(elements) = self { return elements }
        return nil
    }

    var isNull: Bool {
        self == .nullBulkString || self == .nullArray
    }

    /// A short, readable rendering for error messages; long payloads are cut.
    var description: String {
        switch self {
        case let .simpleString(text): return "+\(Self.clip(text))"
        case let .error(text): return "-\(Self.clip(text))"
        case let .integer(value): return ":\(value)"
        case let .bulkString(bytes): return "\"\(Self.clip(String(decoding: bytes, as: UTF8.self)))\""
        case .nullBulkString: return "(nil)"
        case let .array(elements):
            let shown = elements.prefix(8).map(\.description).joined(separator: ", ")
            return "[\(shown)\(elements.count > 8 ? ", … \(elements.count) elements" : "")]"
        case .nullArray: return "(nil array)"
        }
    }

    private static func clip(_ text: String) -> String {
        text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}
