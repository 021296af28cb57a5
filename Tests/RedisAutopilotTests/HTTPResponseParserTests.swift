import XCTest
@testable import RedisAutopilot

final class HTTPResponseParserTests: XCTestCase {
    /// What a parser produced from a whole exchange, events merged.
    struct Parsed: Equatable {
        var heads: [HTTPResponseHead] = []
        var body: [UInt8] = []
        var trailers: [HTTPHeaders] = []
    }

    /// Feeds the pieces in order, then (if the parser is not done) the end of stream.
    func parse(_ pieces: [[UInt8]], method: String = "GET", maxHeaderBytes: Int = HTTPResponseParser.defaultMaxHeaderBytes) throws -> Parsed {
        var parser = HTTPResponseParser(requestMethod: method, maxHeaderBytes: maxHeaderBytes)
        var events: [HTTPResponseEvent] = []
        for piece in pieces {
            events += try parser.feed(piece)
        }
        if !parser.isComplete {
            events += try parser.finish()
        }
        var parsed = Parsed()
        for event in events {
            switch event {
            case let .head(head): parsed.heads.append(head)
            case let .body(bytes): parsed.body += bytes
            case let .end(trailers): parsed.trailers.append(trailers)
            }
        }
        return parsed
    }

    func parse(_ text: String, method: String = "GET") throws -> Parsed {
        try parse([Array(text.utf8)], method: method)
    }

    func assertMalformed(_ text: String, _ expected: HTTPParseError, method: String = "GET", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text, method: method), file: file, line: line) { error in
            XCTAssertEqual(error as? HTTPParseError, expected, file: file, line: line)
        }
    }

    /// The same bytes cut at every boundary, and one byte at a time, parse identically.
    func assertEverySplitParsesLike(_ bytes: [UInt8], expected: Parsed, file: StaticString = #filePath, line: UInt = #line) throws {
        for cut in 0...bytes.count {
            XCTAssertEqual(try parse([Array(bytes[..<cut]), Array(bytes[cut...])]), expected, "cut at \(cut)", file: file, line: line)
        }
        for first in stride(from: 0, through: bytes.count, by: 7) {
            for second in first...bytes.count {
                let pieces = [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])]
                XCTAssertEqual(try parse(pieces), expected, "cuts at \(first), \(second)", file: file, line: line)
            }
        }
        XCTAssertEqual(try parse(bytes.map { [$0] }), expected, "byte by byte", file: file, line: line)
    }

    // MARK: framing

    func testContentLengthAtEverySplitPoint() throws {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nX-Empty:\r\n\r\nHello, world!".utf8)
        let expected = Parsed(
            heads: [HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([("Content-Type", "text/plain"), ("Content-Length", "13"), ("X-Empty", "")]))],
            body: Array("Hello, world!".utf8),
            trailers: [HTTPHeaders()])
        try assertEverySplitParsesLike(bytes, expected: expected)
    }

    func testChunkedWithExtensionsAndTrailersAtEverySplitPoint() throws {
        let bytes = Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nHello\r\n"
            + "1A ; quoted=\"a;b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
            + "0\r\nX-Checksum: abc\r\nX-Other:  v \r\n\r\n").utf8)
        let expected = Parsed(
            heads: [HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([("Transfer-Encoding", "chunked")]))],
            body: Array("Helloabcdefghijklmnopqrstuvwxyz".utf8),
            trailers: [HTTPHeaders([("X-Checksum", "abc"), ("X-Other", "v")])])
        try assertEverySplitParsesLike(bytes, expected: expected)
    }

    func testBodyIsDeliveredBeforeTheResponseIsComplete() throws {
        var parser = HTTPResponseParser(requestMethod: "GET")
        let head = try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234".utf8))
        XCTAssertEqual(head.count, 2)
        XCTAssertEqual(head.last, .body(Array("01234".utf8)))
        XCTAssertFalse(parser.isComplete)
        XCTAssertEqual(try parser.feed(Array("567".utf8)), [.body(Array("567".utf8))])
        XCTAssertEqual(try parser.feed(Array("89 and more".utf8)), [.body(Array("89".utf8)), .end(trailers: HTTPHeaders())])
        XCTAssertTrue(parser.isComplete)
        XCTAssertEqual(try parser.feed(Array("ignored".utf8)), [])

        var chunked = HTTPResponseParser(requestMethod: "GET")
        _ = try chunked.feed(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123".utf8))
        XCTAssertEqual(try chunked.feed(Array("4567".utf8)), [.body(Array("4567".utf8))])
    }

    func testReadUntilClose() throws {
        let parsed = try parse([Array("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nfirst ".utf8), Array("second".utf8)])
        XCTAssertEqual(parsed.heads.first?.version, "HTTP/1.0")
        XCTAssertEqual(parsed.body, Array("first second".utf8))
        XCTAssertEqual(parsed.trailers.count, 1)
    }

    func testNoBodyForHeadAnd204And304() throws {
        for (method, status) in [("HEAD", 200), ("head", 404), ("GET", 204), ("GET", 304)] {
            var parser = HTTPResponseParser(requestMethod: method)
            let events = try parser.feed(Array("HTTP/1.1 \(status) X\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
            XCTAssertTrue(parser.isComplete, "\(method) \(status)")
            XCTAssertEqual(events.count, 2)
            XCTAssertEqual(events.last, .end(trailers: HTTPHeaders()))
        }
    }

    func testZeroContentLengthCompletesWithTheHead() throws {
        var parser = HTTPResponseParser(requestMethod: "PUT")
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        XCTAssertTrue(parser.isComplete)
    }

    func testInterimResponsesAreSkipped() throws {
        let parsed = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(parsed.heads.map(\.status), [201])
        XCTAssertEqual(parsed.heads.first?.headers["Link"], nil)
        XCTAssertEqual(parsed.body, Array("ok".utf8))
    }

    func testTransferEncodingOverridesContentLength() throws {
        let parsed = try parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        XCTAssertEqual(parsed.body, Array("ok".utf8))
    }

    func testRepeatedIdenticalContentLengthIsAccepted() throws {
        XCTAssertEqual(try parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok").body, Array("ok".utf8))
    }

    func testStatusLineVariants() throws {
        XCTAssertEqual(try parse("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n").heads.first, HTTPResponseHead(status: 404, reason: "", headers: HTTPHeaders([("Content-Length", "0")])))
        XCTAssertEqual(try parse("HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n").heads.first?.reason, "")
        XCTAssertEqual(try parse("HTTP/1.1 503 Service Unavailable\tNow\r\nContent-Length: 0\r\n\r\n").heads.first?.reason, "Service Unavailable\tNow")
    }

    func testHeaderNamesKeepCaseAndValuesAreTrimmed() throws {
        let head = try parse("HTTP/1.1 200 OK\r\nx-consul-index:\t42 \r\nContent-Length: 0\r\n\r\n").heads.first
        XCTAssertEqual(head?.headers.fields.first?.name, "x-consul-index")
        XCTAssertEqual(head?.headers["X-Consul-Index"], "42")
    }

    func testHeaderAtExactlyTheLimitIsAccepted() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        XCTAssertNoThrow(try parse([Array(head.utf8)], maxHeaderBytes: head.utf8.count))
        XCTAssertThrowsError(try parse([Array(head.utf8)], maxHeaderBytes: head.utf8.count - 1)) { error in
            XCTAssertEqual(error as? HTTPParseError, .headerTooLarge(limit: head.utf8.count - 1))
        }
    }

    // MARK: malformed input

    func testMalformedStatusLines() {
        for line in ["", "HTTP/1.1", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "HTTP/2.0 200 OK",
                     "HTTP/1.x 200 OK", "HTTP/1.1  200 OK", "HTTP/1.1 200OK", "http/1.1 200 OK", "ICY 200 OK",
                     "HTTP/1.1 099 Low", "HTTP/1.1 200 O\u{1}K", "SSH-2.0-OpenSSH_9.2"] {
            XCTAssertThrowsError(try parse("\(line)\r\nContent-Length: 0\r\n\r\n"), line) { error in
                guard case .invalidStatusLine = error as? HTTPParseError else { return XCTFail("\(line): \(error)") }
            }
        }
    }

    func testBinaryGarbageIsQuotedSafelyInTheError() {
        XCTAssertThrowsError(try parse([[0x16, 0x03, 0x01, 0x00, 0xFF, 13, 10]])) { error in
            XCTAssertEqual(error as? HTTPParseError, .invalidStatusLine("\\x16\\x03\\x01\\x00\\xFF"))
        }
    }

    func testMalformedHeaderLines() {
        assertMalformed("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", .invalidHeaderLine(line: 1, reason: "no colon"))
        assertMalformed("HTTP/1.1 200 OK\r\nA: b\r\nName : value\r\n\r\n", .invalidHeaderLine(line: 2, reason: "invalid field name"))
        assertMalformed("HTTP/1.1 200 OK\r\n: value\r\n\r\n", .invalidHeaderLine(line: 1, reason: "invalid field name"))
        assertMalformed("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", .invalidHeaderLine(line: 2, reason: "obsolete line folding"))
        assertMalformed("HTTP/1.1 200 OK\r\nA: b\u{0}c\r\n\r\n", .invalidHeaderLine(line: 1, reason: "NUL in value of A"))
    }

    func testMissingCRLF() {
        assertMalformed("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", .missingCRLF(after: "status line"))
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", .missingCRLF(after: "header line 1"))
        assertMalformed("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", .missingCRLF(after: "header line 1"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n", .missingCRLF(after: "chunk data"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\rX0\r\n\r\n", .missingCRLF(after: "chunk data"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n", .missingCRLF(after: "chunk size"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: v\n\r\n", .missingCRLF(after: "trailer"))
    }

    func testInvalidContentLength() {
        for value in ["abc", "-1", "+5", "1.5", "0x10", "", "99999999999999999999999", "9223372036854775808", "1 2"] {
            assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\n", .invalidContentLength(value.trimmingSpaces()))
        }
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n", .invalidContentLength(""))
    }

    func testLargestContentLengthParsesWithoutOverflow() throws {
        var parser = HTTPResponseParser(requestMethod: "GET")
        _ = try parser.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc".utf8))
        XCTAssertThrowsError(try parser.finish()) { error in
            XCTAssertEqual(error as? HTTPParseError, .prematureEOF(during: "body (9223372036854775804 bytes missing)"))
        }
    }

    func testConflictingContentLength() {
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", .conflictingContentLength(["5", "6"]))
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", .conflictingContentLength(["5", "6"]))
    }

    func testUnsupportedTransferEncoding() {
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding("gzip, chunked"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferEncoding("chunked, chunked"))
    }

    func testBadChunkSizes() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for line in ["zz", "", "-1", " 5", "5 x", "0x5", "1ffffffffffffffff", "8000000000000000"] {
            assertMalformed(head + line + "\r\nhello\r\n0\r\n\r\n", .invalidChunkSize(line))
        }
    }

    func testChunkSizeLineTooLong() {
        let long = "5;" + String(repeating: "x", count: HTTPResponseParser.maxChunkSizeLineBytes)
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + long)) { error in
            guard case .invalidChunkSize = error as? HTTPParseError else { return XCTFail("\(error)") }
        }
    }

    func testHeaderTooLarge() {
        let filler = String(repeating: "X-Filler: " + String(repeating: "a", count: 1000) + "\r\n", count: 70)
        assertMalformed("HTTP/1.1 200 OK\r\n" + filler + "\r\n", .headerTooLarge(limit: 65536))

        // A peer that never ends its line is cut off at the limit, not buffered forever.
        var parser = HTTPResponseParser(requestMethod: "GET")
        let piece = [UInt8](repeating: 65, count: 4096)
        var thrown: Error?
        for _ in 0..<20 where thrown == nil {
            do { _ = try parser.feed(piece) } catch { thrown = error }
        }
        XCTAssertEqual(thrown as? HTTPParseError, .headerTooLarge(limit: 65536))

        let trailers = String(repeating: "T: " + String(repeating: "b", count: 1000) + "\r\n", count: 70)
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailers + "\r\n", .headerTooLarge(limit: 65536))
    }

    func testPrematureEOF() {
        assertMalformed("", .prematureEOF(during: "wait for the response"))
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Le", .prematureEOF(during: "response header"))
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", .prematureEOF(during: "body (7 bytes missing)"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", .prematureEOF(during: "chunked body"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde", .prematureEOF(during: "chunked body"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5", .prematureEOF(during: "chunked body"))
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n", .prematureEOF(during: "trailers"))
        assertMalformed("HTTP/1.1 100 Continue\r\n\r\n", .prematureEOF(during: "response header"))
    }

    func testErrorsDoNotQuoteHeaderValues() {
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\nX-Token: s3cr3t\u{0}\r\n\r\n")) { error in
            XCTAssertFalse("\(error)".contains("s3cr3t"))
        }
    }

    // MARK: buffered mode

    func testAssemblerBuffersUpToTheLimit() throws {
        var assembler = HTTPResponseAssembler(requestMethod: "GET", sink: nil, maxBufferedBytes: 10)
        let response = try assembler.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".utf8))
        XCTAssertEqual(response?.bodyText, "0123456789")

        var tooLarge = HTTPResponseAssembler(requestMethod: "GET", sink: nil, maxBufferedBytes: 10)
        _ = try tooLarge.consume(Array("HTTP/1.1 200 OK\r\n\r\n01234".utf8))
        XCTAssertThrowsError(try tooLarge.consume(Array("567890".utf8))) { error in
            guard case .bodyTooLarge(10)? = error as? HTTPError.Failure else { return XCTFail("\(error)") }
        }
    }

    func testAssemblerStreamsOnly2xxIntoTheSink() throws {
        let sink = HTTPCollectingSink()
        var ok = HTTPResponseAssembler(requestMethod: "GET", sink: sink, maxBufferedBytes: 4)
        _ = try ok.consume(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nstream".utf8))
        XCTAssertEqual(sink.bytes, Array("stream".utf8), "streamed before the end, past the buffer limit")
        let response = try ok.consume(Array("\r\n0\r\n\r\n".utf8))
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.body, [])

        let untouched = HTTPCollectingSink()
        var failed = HTTPResponseAssembler(requestMethod: "GET", sink: untouched, maxBufferedBytes: 100)
        let error = try failed.consume(Array("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno object".utf8))
        XCTAssertEqual(error?.status, 404)
        XCTAssertEqual(error?.bodyText, "no object")
        XCTAssertEqual(untouched.bytes, [])
    }

    func testAssemblerReportsEndOfStreamBeforeCompletion() throws {
        var assembler = HTTPResponseAssembler(requestMethod: "GET", sink: nil)
        _ = try assembler.consume(Array("HTTP/1.1 200 OK\r\n\r\nuntil close".utf8))
        XCTAssertEqual(try assembler.consumeEndOfStream().bodyText, "until close")

        var cut = HTTPResponseAssembler(requestMethod: "GET", sink: nil)
        _ = try cut.consume(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab".utf8))
        XCTAssertThrowsError(try cut.consumeEndOfStream()) { error in
            XCTAssertEqual(error as? HTTPParseError, .prematureEOF(during: "body (3 bytes missing)"))
        }
    }
}

final class HTTPCollectingSink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ bytes: [UInt8]) throws { self.bytes += bytes }
}
