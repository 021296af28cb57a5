/// Status line and header fields of a response, available before its body.
struct HTTPResponseHead: Sendable, Equatable {
    var version: String
    var status: Int
    var reason: String
    var headers: HTTPHeaders

    init(version: String = "HTTP/1.1", status: Int, reason: String = "", headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

enum HTTPResponseEvent: Sendable, Equatable {
    case head(HTTPResponseHead)
    /// A piece of the body as it arrived, with chunked framing removed.
    case body([UInt8])
    /// The response is complete; trailers are those of a chunked body.
    case end(trailers: HTTPHeaders)
}

/// An incremental HTTP/1.1 response parser: bytes go in as they arrive, in
/// pieces of any size, and events come out as soon as they are known, so a
/// body of any length passes through without being held. Interim 1xx
/// responses are skipped. After an error the parser must be discarded.
struct HTTPResponseParser {
    static let defaultMaxHeaderBytes = 64 * 1024
    /// A chunk-size line is a hex number and rare extensions; anything longer is not a chunk header.
    static let maxChunkSizeLineBytes = 4096

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case untilClose
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailers
        case complete
    }

    private enum BodyFraming {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    let requestMethod: String
    let maxHeaderBytes: Int
    private var state = State.head
    /// The partial line being collected (head, chunk size, trailers).
    private var line: [UInt8] = []
    /// Bytes the current head, trailer section or chunk-size line may still take.
    private var lineBudget: Int
    private var head: HTTPResponseHead?
    private var headerLineNumber = 0
    private var trailers = HTTPHeaders()
    private var receivedAnything = false

    init(requestMethod: String, maxHeaderBytes: Int = HTTPResponseParser.defaultMaxHeaderBytes) {
        self.requestMethod = requestMethod
        self.maxHeaderBytes = maxHeaderBytes
        self.lineBudget = maxHeaderBytes
    }

    var isComplete: Bool {
        if case .complete = state { return true }
        return false
    }

    /// Consumes the bytes and returns what they completed. Bytes after the
    /// end of the response are ignored.
    mutating func feed(_ bytes: [UInt8]) throws -> [HTTPResponseEvent] {
        try feed(bytes[...])
    }

    mutating func feed(_ bytes: ArraySlice<UInt8>) throws -> [HTTPResponseEvent] {
        if !bytes.isEmpty { receivedAnything = true }
        var events: [HTTPResponseEvent] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch state {
            case .head:
                guard let text = try takeLine(bytes, at: &index, context: headContext) else { break }
                try headLine(text, events: &events)
            case let .fixedBody(remaining):
                let count = min(remaining, bytes.endIndex - index)
                events.append(.body(Array(bytes[index..<index + count])))
                index += count
                if count == remaining {
                    finishResponse(events: &events)
                } else {
                    state = .fixedBody(remaining: remaining - count)
                }
            case .untilClose:
                events.append(.body(Array(bytes[index...])))
                index = bytes.endIndex
            case .chunkSize:
                guard let text = try takeLine(bytes, at: &index, context: "chunk size") else { break }
                let size = try Self.chunkSize(text)
                if size == 0 {
                    lineBudget = maxHeaderBytes
                    headerLineNumber = 0
                    state = .trailers
                } else {
                    state = .chunkData(remaining: size)
                }
            case let .chunkData(remaining):
                let count = min(remaining, bytes.endIndex - index)
                events.append(.body(Array(bytes[index..<index + count])))
                index += count
                state = count == remaining ? .chunkDataCR : .chunkData(remaining: remaining - count)
            case .chunkDataCR:
                guard bytes[index] == UInt8(ascii: "\r") else { throw HTTPParseError.missingCRLF(after: "chunk data") }
                index += 1
                state = .chunkDataLF
            case .chunkDataLF:
                guard bytes[index] == UInt8(ascii: "\n") else { throw HTTPParseError.missingCRLF(after: "chunk data") }
                index += 1
                startChunk()
            case .trailers:
                guard let text = try takeLine(bytes, at: &index, context: "trailer") else { break }
                if text.isEmpty {
                    finishResponse(events: &events)
                } else {
                    headerLineNumber += 1
                    let field = try Self.headerField(text, lineNumber: headerLineNumber)
                    trailers.add(field.name, field.value)
                }
            case .complete:
                index = bytes.endIndex
            }
        }
        return events
    }

    /// The peer closed the connection: ends a body delimited by the close,
    /// and is an error anywhere else before the response is complete.
    mutating func finish() throws -> [HTTPResponseEvent] {
        switch state {
        case .complete:
            return []
        case .untilClose:
            var events: [HTTPResponseEvent] = []
            finishResponse(events: &events)
            return events
        case .head:
            throw HTTPParseError.prematureEOF(during: receivedAnything ? "response header" : "wait for the response")
        case let .fixedBody(remaining):
            throw HTTPParseError.prematureEOF(during: "body (\(remaining) bytes missing)")
        case .chunkSize, .chunkData, .chunkDataCR, .chunkDataLF:
            throw HTTPParseError.prematureEOF(during: "chunked body")
        case .trailers:
            throw HTTPParseError.prematureEOF(during: "trailers")
        }
    }

    private var headContext: String {
        head == nil ? "status line" : "header line \(headerLineNumber + 1)"
    }

    /// Collects bytes up to the next LF. Returns the line without its CRLF
    /// once complete, nil when more input is needed.
    private mutating func takeLine(_ bytes: ArraySlice<UInt8>, at index: inout Int, context: String) throws -> [UInt8]? {
        let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n"))
        let end = newline.map { $0 + 1 } ?? bytes.endIndex
        guard end - index <= lineBudget else {
            if case .chunkSize = state {
                throw HTTPParseError.invalidChunkSize(HTTPParseError.quote(line + bytes[index..<min(end, index + 80)]))
            }
            throw HTTPParseError.headerTooLarge(limit: maxHeaderBytes)
        }
        lineBudget -= end - index
        line.append(contentsOf: bytes[index..<end])
        index = end
        guard newline != nil else { return nil }
        defer { line.removeAll(keepingCapacity: true) }
        guard line.count >= 2, line[line.count - 2] == UInt8(ascii: "\r") else { throw HTTPParseError.missingCRLF(after: context) }
        let text = Array(line[..<(line.count - 2)])
        guard !text.contains(UInt8(ascii: "\r")) else { throw HTTPParseError.missingCRLF(after: context) }
        return text
    }

    private mutating func headLine(_ text: [UInt8], events: inout [HTTPResponseEvent]) throws {
        guard var current = head else {
            head = try Self.statusLine(text)
            return
        }
        if !text.isEmpty {
            headerLineNumber += 1
            let field = try Self.headerField(text, lineNumber: headerLineNumber)
            current.headers.add(field.name, field.value)
            head = current
            return
        }
        // Interim responses (100 Continue and the like) precede the real one.
        if (100..<200).contains(current.status) {
            head = nil
            headerLineNumber = 0
            lineBudget = maxHeaderBytes
            return
        }
        events.append(.head(current))
        switch try framing(of: current) {
        case .none:
            finishResponse(events: &events)
        case let .length(count):
            if count == 0 { finishResponse(events: &events) } else { state = .fixedBody(remaining: count) }
        case .chunked:
            startChunk()
        case .untilClose:
            state = .untilClose
        }
    }

    private mutating func startChunk() {
        lineBudget = Self.maxChunkSizeLineBytes
        state = .chunkSize
    }

    private mutating func finishResponse(events: inout [HTTPResponseEvent]) {
        state = .complete
        events.append(.end(trailers: trailers))
    }

    /// RFC 9112 section 6.3, for a response.
    private func framing(of head: HTTPResponseHead) throws -> BodyFraming {
        if requestMethod.uppercased() == "HEAD" || head.status == 204 || head.status == 304 {
            return .none
        }
        let encodings = head.headers.values("Transfer-Encoding")
        if !encodings.isEmpty {
            let codings = encodings.flatMap { $0.split(separator: ",") }
                .map { $0.trimmingSpaces().lowercased() }
                .filter { !$0.isEmpty }
            // We never ask for a transfer coding, so chunked is the only one to expect.
            guard codings == ["chunked"] else {
                throw HTTPParseError.unsupportedTransferEncoding(encodings.joined(separator: ", "))
            }
            return .chunked
        }
        let lengths = head.headers.values("Content-Length")
            .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingSpaces() }
        guard !lengths.isEmpty else { return .untilClose }
        let values = try lengths.map(Self.contentLength)
        guard values.allSatisfy({ $0 == values[0] }) else { throw HTTPParseError.conflictingContentLength(lengths) }
        return .length(values[0])
    }

    static func contentLength(_ text: String) throws -> Int {
        guard !text.isEmpty, let value = decimal(text.utf8) else { throw HTTPParseError.invalidContentLength(text) }
        return value
    }

    /// Non-negative decimal digits only, nil on anything else or overflow.
    static func decimal(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    static func statusLine(_ text: [UInt8]) throws -> HTTPResponseHead {
        let invalid = HTTPParseError.invalidStatusLine(HTTPParseError.quote(text))
        // "HTTP/1.x NNN" then optionally " reason".
        guard text.count >= 12, text.starts(with: Array("HTTP/1.".utf8)), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[7]),
              text[8] == UInt8(ascii: " ") else {
            throw invalid
        }
        guard let status = decimal(text[9..<12]), (100...999).contains(status) else { throw invalid }
        var reason = ""
        if text.count > 12 {
            guard text[12] == UInt8(ascii: " ") else { throw invalid }
            let phrase = text[13...]
            guard !phrase.contains(where: { ($0 < UInt8(ascii: " ") && $0 != UInt8(ascii: "\t")) || $0 == 0x7F }) else { throw invalid }
            reason = String(decoding: phrase, as: UTF8.self)
        }
        return HTTPResponseHead(version: String(decoding: text[0..<8], as: UTF8.self), status: status, reason: reason)
    }

    static func headerField(_ text: [UInt8], lineNumber: Int) throws -> (name: String, value: String) {
        if let first = text.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            throw HTTPParseError.invalidHeaderLine(line: lineNumber, reason: "obsolete line folding")
        }
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPParseError.invalidHeaderLine(line: lineNumber, reason: "no colon")
        }
        let name = text[..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw HTTPParseError.invalidHeaderLine(line: lineNumber, reason: "invalid field name")
        }
        var value = text[(colon + 1)...]
        while let first = value.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { value = value.dropFirst() }
        while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { value = value.dropLast() }
        guard !value.contains(0) else {
            throw HTTPParseError.invalidHeaderLine(line: lineNumber, reason: "NUL in value of \(String(decoding: name, as: UTF8.self))")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// Hex size, optional whitespace, optional ";extensions".
    static func chunkSize(_ text: [UInt8]) throws -> Int {
        let invalid = HTTPParseError.invalidChunkSize(HTTPParseError.quote(text))
        let digits = text.prefix { isHexDigit($0) }
        guard !digits.isEmpty else { throw invalid }
        var rest = text[digits.endIndex...]
        while let first = rest.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { rest = rest.dropFirst() }
        guard rest.isEmpty || rest.first == UInt8(ascii: ";") else { throw invalid }
        var value = 0
        for byte in digits {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 16)
            let (sum, overflow2) = shifted.addingReportingOverflow(hexValue(byte))
            if overflow1 || overflow2 { throw invalid }
            value = sum
        }
        return value
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return Int(byte - UInt8(ascii: "a")) + 10
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's OWS).
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
