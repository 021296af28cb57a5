/// Writes RESP2. Commands go to Redis as an array of bulk strings, which is
/// binary safe whatever the arguments hold.
enum RESPEncoder {
    static func command(_ arguments: [String]) -> [UInt8] {
        command(arguments.map { Array($0.utf8) })
    }

    static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + arguments.reduce(0) { $0 + $1.count + 16 })
        appendHeader(UInt8(ascii: "*"), arguments.count, to: &out)
        for argument in arguments {
            appendBulk(argument, to: &out)
        }
        return out
    }

    /// Throws `RESPError.unencodable` for a simple string or error that holds
    /// CR or LF: written as is, it would end the line early and desynchronise
    /// the reader.
    static func encode(_ value: RESPValue) throws -> [UInt8] {
        var out: [UInt8] = []
        try append(value, to: &out)
        return out
    }

    private static func append(_ value: RESPValue, to out: inout [UInt8]) throws {
        switch value {
        case let .simpleString(text):
            try appendLine(UInt8(ascii: "+"), text, to: &out)
        case let .error(text):
            try appendLine(UInt8(ascii: "-"), text, to: &out)
        case let .integer(number):
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: String(number).utf8)
            out.append(contentsOf: crlf)
        case let .bulkString(bytes):
            appendBulk(bytes, to: &out)
        case .nullBulkString:
            appendHeader(UInt8(ascii: "$"), -1, to: &out)
        case let .array(elements):
            appendHeader(UInt8(ascii: "*"), elements.count, to: &out)
            for element in elements {
                try append(element, to: &out)
            }
        case .nullArray:
            appendHeader(UInt8(ascii: "*"), -1, to: &out)
        }
    }

    private static let crlf: [UInt8] = [13, 10]

    private static func appendLine(_ type: UInt8, _ text: String, to out: inout [UInt8]) throws {
        let bytes = Array(text.utf8)
        if bytes.contains(13) || bytes.contains(10) {
            throw RESPError.unencodable("\(type == UInt8(ascii: "+") ? "simple string" : "error") containing CR or LF")
        }
        out.append(type)
        out.append(contentsOf: bytes)
        out.append(contentsOf: crlf)
    }

    private static func appendHeader(_ type: UInt8, _ count: Int, to out: inout [UInt8]) {
        out.append(type)
        out.append(contentsOf: String(count).utf8)
        out.append(contentsOf: crlf)
    }

    private static func appendBulk(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendHeader(UInt8(ascii: "$"), bytes.count, to: &out)
        out.append(contentsOf: bytes)
        out.append(contentsOf: crlf)
    }
}
