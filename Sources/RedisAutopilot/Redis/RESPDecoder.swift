/// Reads RESP2 from a byte stream that arrives in pieces of any size.
///
/// `feed` appends bytes; `next` returns the next complete value, or nil while
/// one is still incomplete. Everything that comes from the peer is checked
/// before it is trusted: lengths are bounded, arrays are not pre-allocated
/// from their announced count, nesting is limited, and so is the size of a
/// whole reply, so a hostile or broken peer can cost at most a bounded
/// multiple of `maxReplyBytes` per reply, however long it keeps sending.
/// After the first error the stream is out of step and every later `next`
/// throws the same error.
struct RESPDecoder {
    struct Limits: Sendable, Equatable {
        /// The replies read here (INFO, ROLE, CONFIG GET, SENTINEL lists)
        /// are kilobytes; nothing this program asks for comes near 4 MiB.
        static let defaultMaxReplyBytes = 4 * 1024 * 1024

        var maxBulkLength: Int
        var maxNestingDepth: Int
        /// Longest simple string, error, integer or length line.
        var maxLineLength: Int
        /// Bytes of one top-level reply, all its elements included: what
        /// stops an endless array or a reply of many medium strings.
        var maxReplyBytes: Int

        init(maxBulkLength: Int = defaultMaxReplyBytes, maxNestingDepth: Int = 64, maxLineLength: Int = 1024 * 1024,
                    maxReplyBytes: Int = defaultMaxReplyBytes) {
            self.maxBulkLength = maxBulkLength
            self.maxNestingDepth = maxNestingDepth
            self.maxLineLength = maxLineLength
            self.maxReplyBytes = maxReplyBytes
        }
    }

    /// An array whose elements are still arriving.
    private struct OpenArray {
        var remaining: Int
        var elements: [RESPValue]
    }

    /// One step of parsing: a finished value or the header of an array.
    private enum Item {
        case value(RESPValue)
        case arrayHeader(count: Int, offset: Int)
    }

    let limits: Limits
    private var buffer: [UInt8] = []
    /// Index in `buffer` of the first byte not yet consumed.
    private var position = 0
    /// Bytes dropped from the front of `buffer`, to report stream offsets.
    private var discarded = 0
    /// How far past `position` a line end has already been searched for, so
    /// a long line fed byte by byte is scanned once, not once per byte.
    private var scannedLineBytes = 0
    private var openArrays: [OpenArray] = []
    /// Stream offset of the first byte of the reply being assembled.
    private var replyStart = 0
    private var failure: RESPError?

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received but not yet returned as part of a complete value.
    var bufferedByteCount: Int { buffer.count - position }

    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    mutating func next() throws -> RESPValue? {
        if let failure { throw failure }
        do {
            let value = try assemble()
            compact()
            return value
        } catch let error as RESPError {
            failure = error
            throw error
        }
    }

    private mutating func assemble() throws -> RESPValue? {
        if openArrays.isEmpty { replyStart = offset(of: position) }
        while let item = try parseItem() {
            let size = offset(of: position) - replyStart
            guard size <= limits.maxReplyBytes else {
                throw RESPError.replyTooLarge(limit: limits.maxReplyBytes, offset: replyStart)
            }
            var finished: RESPValue
            switch item {
            case let .value(value):
                finished = value
            case let .arrayHeader(count, offset):
                guard openArrays.count < limits.maxNestingDepth else {
                    throw RESPError.nestingTooDeep(limit: limits.maxNestingDepth, offset: offset)
                }
                if count > 0 {
                    // The count is the peer's claim; capacity grows with what arrives.
                    openArrays.append(OpenArray(remaining: count, elements: []))
                    continue
                }
                finished = .array([])
            }
            while var innermost = openArrays.popLast() {
                innermost.elements.append(finished)
                innermost.remaining -= 1
                if innermost.remaining > 0 {
                    openArrays.append(innermost)
                    break
                }
                finished = .array(innermost.elements)
            }
            if openArrays.isEmpty { return finished }
        }
        return nil
    }

    /// Parses one value or array header at `position`, consuming it, or
    /// returns nil without consuming anything when its bytes are not all here.
    private mutating func parseItem() throws -> Item? {
        guard position < buffer.count else { return nil }
        let start = position
        let type = buffer[start]
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"):
            break
        default:
            throw RESPError.invalidTypeByte(type, offset: offset(of: start))
        }
        guard let lineEnd = try findLineEnd(from: start + 1) else { return nil }
        let line = buffer[(start + 1)..<lineEnd]
        let afterLine = lineEnd + 2

        switch type {
        case UInt8(ascii: "+"):
            consume(upTo: afterLine)
            return .value(.simpleString(String(decoding: line, as: UTF8.self)))
        case UInt8(ascii: "-"):
            consume(upTo: afterLine)
            return .value(.error(String(decoding: line, as: UTF8.self)))
        case UInt8(ascii: ":"):
            guard let number = Self.parseInteger(line) else {
                throw RESPError.invalidInteger(text: Self.quote(line), offset: offset(of: start + 1))
            }
            consume(upTo: afterLine)
            return .value(.integer(number))
        case UInt8(ascii: "$"):
            guard let length = try parseLength(line, at: start + 1) else {
                consume(upTo: afterLine)
                return .value(.nullBulkString)
            }
            guard length <= limits.maxBulkLength else {
                throw RESPError.bulkStringTooLong(length: length, limit: limits.maxBulkLength, offset: offset(of: start + 1))
            }
            // Refused before it arrives: waiting for it would hold it all.
            guard offset(of: afterLine) - replyStart + length <= limits.maxReplyBytes else {
                throw RESPError.replyTooLarge(limit: limits.maxReplyBytes, offset: replyStart)
            }
            let dataEnd = afterLine + length
            guard buffer.count >= dataEnd + 2 else { return nil }
            guard buffer[dataEnd] == 13, buffer[dataEnd + 1] == 10 else {
                throw RESPError.missingCRLF(offset: offset(of: dataEnd))
            }
            let bytes = Array(buffer[afterLine..<dataEnd])
            consume(upTo: dataEnd + 2)
            return .value(.bulkString(bytes))
        default:
            guard let count = try parseLength(line, at: start + 1) else {
                consume(upTo: afterLine)
                return .value(.nullArray)
            }
            consume(upTo: afterLine)
            return .arrayHeader(count: count, offset: offset(of: start))
        }
    }

    /// Index of the CR that ends the line starting at `from`, or nil when the
    /// line is not complete yet. A CR not followed by LF, or a bare LF, is an
    /// error: RESP2 lines cannot contain either.
    private mutating func findLineEnd(from: Int) throws -> Int? {
        var index = max(from, position + scannedLineBytes)
        while index < buffer.count {
            let byte = buffer[index]
            if byte == 13 {
                guard index + 1 < buffer.count else { break }
                guard buffer[index + 1] == 10 else { throw RESPError.missingCRLF(offset: offset(of: index)) }
                scannedLineBytes = 0
                return index
            }
            if byte == 10 { throw RESPError.missingCRLF(offset: offset(of: index)) }
            if index - from >= limits.maxLineLength {
                throw RESPError.lineTooLong(limit: limits.maxLineLength, offset: offset(of: from))
            }
            index += 1
        }
        scannedLineBytes = index - position
        return nil
    }

    /// A bulk string or array length: nil for -1 (null), an error for any
    /// other negative or non-numeric value.
    private func parseLength(_ line: ArraySlice<UInt8>, at index: Int) throws -> Int? {
        guard let number = Self.parseInteger(line), number >= -1, let length = Int(exactly: number) else {
            throw RESPError.invalidLength(text: Self.quote(line), offset: offset(of: index))
        }
        return length == -1 ? nil : length
    }

    /// A decimal Int64 with an optional minus sign; nil on anything else,
    /// including overflow. Accumulates negatively so Int64.min is accepted.
    static func parseInteger(_ digits: ArraySlice<UInt8>) -> Int64? {
        var index = digits.startIndex
        let negative = index < digits.endIndex && digits[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < digits.endIndex else { return nil }
        var value: Int64 = 0
        while index < digits.endIndex {
            let byte = digits[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflowA || overflowB { return nil }
            value = next
            index += 1
        }
        if negative { return value }
        let (positive, overflow) = Int64(0).subtractingReportingOverflow(value)
        return overflow ? nil : positive
    }

    private static func quote(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(32), as: UTF8.self)
        return bytes.count > 32 ? text + "…" : text
    }

    private func offset(of index: Int) -> Int {
        discarded + index
    }

    private mutating func consume(upTo index: Int) {
        position = index
        scannedLineBytes = 0
    }

    /// Drops consumed bytes once they are a large share of the buffer, so
    /// memory follows what is pending rather than everything ever received.
    private mutating func compact() {
        if position == buffer.count {
            discarded += position
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            position = 0
        } else if position >= 1 << 16, position * 2 >= buffer.count {
            discarded += position
            buffer.removeFirst(position)
            position = 0
        }
    }
}
