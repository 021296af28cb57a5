import XCTest
@testable import RedisAutopilot

final class RESPEncoderTests: XCTestCase {
    func testCommandFromStringsIsAnArrayOfBulkStrings() {
        XCTAssertEqual(bytesText(RESPEncoder.command(["SET", "key", "välue"])),
                       "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvälue\r\n")
    }

    func testCommandFromBytesIsBinarySafe() {
        let binary: [UInt8] = [0, 13, 10, 255, 36]
        XCTAssertEqual(RESPEncoder.command([Array("SET".utf8), binary, []]),
                       Array("*3\r\n$3\r\nSET\r\n$5\r\n".utf8) + binary + Array("\r\n$0\r\n\r\n".utf8))
    }

    func testEmptyCommand() {
        XCTAssertEqual(bytesText(RESPEncoder.command([String]())), "*0\r\n")
    }

    func testEveryValueType() throws {
        let cases: [(RESPValue, String)] = [
            (.simpleString("OK"), "+OK\r\n"),
            (.simpleString(""), "+\r\n"),
            (.error("ERR unknown"), "-ERR unknown\r\n"),
            (.integer(0), ":0\r\n"),
            (.integer(-42), ":-42\r\n"),
            (.integer(Int64.max), ":9223372036854775807\r\n"),
            (.integer(Int64.min), ":-9223372036854775808\r\n"),
            (.bulkString("hello"), "$5\r\nhello\r\n"),
            (.bulkString([]), "$0\r\n\r\n"),
            (.nullBulkString, "$-1\r\n"),
            (.array([]), "*0\r\n"),
            (.nullArray, "*-1\r\n"),
            (.array([.integer(1), .array([.bulkString("a"), .nullBulkString]), .simpleString("x")]),
             "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(bytesText(try RESPEncoder.encode(value)), expected, "\(value)")
        }
    }

    func testLineTypesWithCRorLFAreRefused() {
        for value: RESPValue in [.simpleString("a\r\nb"), .error("x\ny"), .array([.simpleString("\r")])] {
            XCTAssertThrowsError(try RESPEncoder.encode(value), "\(value)") { error in
                guard case RESPError.unencodable = error else { return XCTFail("\(error)") }
            }
        }
    }
}

final class RESPDecoderTests: XCTestCase {
    /// Every kind of value, with its exact wire form.
    private let samples: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("+\r\n", .simpleString("")),
        ("-ERR wrong number of arguments\r\n", .error("ERR wrong number of arguments")),
        (":0\r\n", .integer(0)),
        (":-17\r\n", .integer(-17)),
        (":9223372036854775807\r\n", .integer(Int64.max)),
        (":-9223372036854775808\r\n", .integer(Int64.min)),
        ("$5\r\nhello\r\n", .bulkString("hello")),
        ("$0\r\n\r\n", .bulkString([])),
        ("$4\r\na\r\nb\r\n", .bulkString("a\r\nb")),
        ("$-1\r\n", .nullBulkString),
        ("*0\r\n", .array([])),
        ("*-1\r\n", .nullArray),
        ("*2\r\n$3\r\nfoo\r\n:7\r\n", .array([.bulkString("foo"), .integer(7)])),
        ("*3\r\n*1\r\n*0\r\n$-1\r\n*2\r\n+a\r\n-b\r\n",
         .array([.array([.array([])]), .nullBulkString, .array([.simpleString("a"), .error("b")])])),
        ("*2\r\n*-1\r\n*1\r\n:1\r\n", .array([.nullArray, .array([.integer(1)])])),
    ]

    func testBinaryBulkString() throws {
        let payload: [UInt8] = (0...255).map { UInt8($0) }
        var decoder = RESPDecoder()
        decoder.feed(Array("$256\r\n".utf8) + payload + [13, 10])
        XCTAssertEqual(try decoder.next(), .bulkString(payload))
        XCTAssertNil(try decoder.next())
    }

    func testEverySampleWhole() throws {
        for (wire, value) in samples {
            XCTAssertEqual(try decodeAll([Array(wire.utf8)]), [value], wire.debugDescription)
        }
    }

    func testEverySampleSplitAtEveryByteBoundary() throws {
        for (wire, value) in samples {
            let bytes = Array(wire.utf8)
            for cut in 1..<bytes.count {
                XCTAssertEqual(try decodeAll([Array(bytes[..<cut]), Array(bytes[cut...])]), [value],
                               "\(wire.debugDescription) cut at \(cut)")
            }
        }
    }

    func testEverySampleByteByByte() throws {
        for (wire, value) in samples {
            XCTAssertEqual(try decodeAll(Array(wire.utf8).map { [$0] }), [value], wire.debugDescription)
        }
    }

    func testIncompleteValueYieldsNothingUntilItsLastByte() throws {
        for (wire, value) in samples {
            var decoder = RESPDecoder()
            let bytes = Array(wire.utf8)
            for byte in bytes.dropLast() {
                decoder.feed([byte])
                XCTAssertNil(try decoder.next(), wire.debugDescription)
            }
            decoder.feed([bytes[bytes.count - 1]])
            XCTAssertEqual(try decoder.next(), value)
            XCTAssertEqual(decoder.bufferedByteCount, 0)
        }
    }

    func testManyValuesInOnePiece() throws {
        let wire = samples.map(\.0).joined()
        XCTAssertEqual(try decodeAll([Array(wire.utf8)]), samples.map(\.1))
    }

    func testManyValuesInUnevenPieces() throws {
        let bytes = Array(String(repeating: samples.map(\.0).joined(), count: 3).utf8)
        var pieces: [[UInt8]] = []
        var index = 0
        var size = 1
        while index < bytes.count {
            let end = min(bytes.count, index + size)
            pieces.append(Array(bytes[index..<end]))
            index = end
            size = size % 13 + 1
        }
        XCTAssertEqual(try decodeAll(pieces), Array(repeating: samples.map(\.1), count: 3).flatMap { $0 })
    }

    func testEncodedValuesDecodeToThemselves() throws {
        let values = samples.map(\.1) + [.bulkString((0...255).map { UInt8($0) }), .array(samples.map(\.1))]
        for value in values {
            XCTAssertEqual(try decodeAll([try RESPEncoder.encode(value)]), [value])
        }
    }

    func testLargeBulkStringInPieces() throws {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let wire = Array("$\(payload.count)\r\n".utf8) + payload + [13, 10]
        let pieces = stride(from: 0, to: wire.count, by: 4096).map { Array(wire[$0..<min(wire.count, $0 + 4096)]) }
        XCTAssertEqual(try decodeAll(pieces), [.bulkString(payload)])
    }

    func testLongLineFedByteByByteIsNotRescanned() throws {
        // Rescanning from the line start on every byte would take minutes here.
        let text = String(repeating: "x", count: 200_000)
        var decoder = RESPDecoder()
        decoder.feed([UInt8(ascii: "+")])
        for byte in text.utf8 {
            decoder.feed([byte])
            XCTAssertNil(try decoder.next())
        }
        decoder.feed([13, 10])
        XCTAssertEqual(try decoder.next(), .simpleString(text))
    }

    func testAbsurdArrayCountWaitsForElementsWithoutAllocating() throws {
        var decoder = RESPDecoder()
        decoder.feed(Array("*9223372036854775807\r\n:1\r\n:2\r\n".utf8))
        XCTAssertNil(try decoder.next())
        decoder.feed(Array("*2147483647\r\n".utf8))
        XCTAssertNil(try decoder.next())
    }

    /// Issue 12, finding 10: a peer could make a reply hold 512 MiB (twice,
    /// while copying) or stream an endless array until the timeout.
    func testAnEndlessArrayIsRefusedOnceItPassesTheReplyLimit() throws {
        var decoder = RESPDecoder()
        decoder.feed(Array("*9223372036854775807\r\n".utf8))
        let piece = Array(String(repeating: ":1\r\n", count: 16384).utf8)
        var fed = 0
        var caught: RESPError?
        while caught == nil && fed < 64 * 1024 * 1024 {
            decoder.feed(piece)
            fed += piece.count
            do {
                if let value = try decoder.next() { return XCTFail("the array ended: \(value)") }
            } catch {
                caught = error as? RESPError
            }
        }
        XCTAssertEqual(caught, .replyTooLarge(limit: RESPDecoder.Limits.defaultMaxReplyBytes, offset: 0))
        XCTAssertLessThanOrEqual(fed, RESPDecoder.Limits.defaultMaxReplyBytes + piece.count)
    }

    func testAHugeBulkStringIsRefusedBeforeItArrives() {
        var decoder = RESPDecoder()
        decoder.feed(Array("$536870912\r\n".utf8))
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RESPError, .bulkStringTooLong(length: 536_870_912, limit: 4_194_304, offset: 1))
        }
    }

    func testReplyLimitCountsEachReplyOnItsOwn() throws {
        var decoder = RESPDecoder(limits: .init(maxReplyBytes: 12))
        decoder.feed(Array("*2\r\n:1\r\n:2\r\n*2\r\n:3\r\n:4\r\n".utf8))
        XCTAssertEqual(try decoder.next(), .array([.integer(1), .integer(2)]))
        XCTAssertEqual(try decoder.next(), .array([.integer(3), .integer(4)]))
    }

    func testLimitsAreInclusive() throws {
        var decoder = RESPDecoder(limits: .init(maxBulkLength: 5, maxNestingDepth: 2, maxLineLength: 4))
        decoder.feed(Array("$5\r\nhello\r\n*1\r\n*1\r\n:1\r\n+abcd\r\n".utf8))
        XCTAssertEqual(try decoder.next(), .bulkString("hello"))
        XCTAssertEqual(try decoder.next(), .array([.array([.integer(1)])]))
        XCTAssertEqual(try decoder.next(), .simpleString("abcd"))
    }

    func testDefaultNestingLimitAcceptsSixtyFourLevels() throws {
        var decoder = RESPDecoder()
        decoder.feed(Array((String(repeating: "*1\r\n", count: 64) + ":1\r\n").utf8))
        var expected = RESPValue.integer(1)
        for _ in 0..<64 { expected = .array([expected]) }
        XCTAssertEqual(try decoder.next(), expected)
    }

    /// Malformed input, the error it must raise, and (where it matters) the limits in force.
    private let malformed: [(String, [UInt8], RESPError, RESPDecoder.Limits)] = [
        ("unknown type byte", Array("!OK\r\n".utf8), .invalidTypeByte(0x21, offset: 0), .init()),
        ("leading space", Array(" +OK\r\n".utf8), .invalidTypeByte(0x20, offset: 0), .init()),
        ("RESP3 type byte", Array("_\r\n".utf8), .invalidTypeByte(0x5f, offset: 0), .init()),
        ("inline command", Array("PING\r\n".utf8), .invalidTypeByte(0x50, offset: 0), .init()),
        ("bad type inside array", Array("*2\r\n:1\r\n?\r\n".utf8), .invalidTypeByte(0x3f, offset: 8), .init()),
        ("letters in integer", Array(":12a\r\n".utf8), .invalidInteger(text: "12a", offset: 1), .init()),
        ("empty integer", Array(":\r\n".utf8), .invalidInteger(text: "", offset: 1), .init()),
        ("lone minus", Array(":-\r\n".utf8), .invalidInteger(text: "-", offset: 1), .init()),
        ("plus sign", Array(":+1\r\n".utf8), .invalidInteger(text: "+1", offset: 1), .init()),
        ("integer above Int64", Array(":9223372036854775808\r\n".utf8),
         .invalidInteger(text: "9223372036854775808", offset: 1), .init()),
        ("integer below Int64", Array(":-9223372036854775809\r\n".utf8),
         .invalidInteger(text: "-9223372036854775809", offset: 1), .init()),
        ("huge integer", Array((":" + String(repeating: "9", count: 40) + "\r\n").utf8),
         .invalidInteger(text: String(repeating: "9", count: 32) + "…", offset: 1), .init()),
        ("non-numeric bulk length", Array("$abc\r\nabc\r\n".utf8), .invalidLength(text: "abc", offset: 1), .init()),
        ("empty bulk length", Array("$\r\n\r\n".utf8), .invalidLength(text: "", offset: 1), .init()),
        ("bulk length -2", Array("$-2\r\n".utf8), .invalidLength(text: "-2", offset: 1), .init()),
        ("overflowing bulk length", Array("$99999999999999999999\r\n".utf8),
         .invalidLength(text: "99999999999999999999", offset: 1), .init()),
        ("array count -5", Array("*-5\r\n".utf8), .invalidLength(text: "-5", offset: 1), .init()),
        ("fractional array count", Array("*1.5\r\n".utf8), .invalidLength(text: "1.5", offset: 1), .init()),
        ("bulk over 4 MiB", Array("$4194305\r\n".utf8),
         .bulkStringTooLong(length: 4_194_305, limit: 4_194_304, offset: 1), .init()),
        ("bulk that would take the reply over its limit", Array("*2\r\n$6\r\nhello!\r\n$6\r\n".utf8),
         .replyTooLarge(limit: 20, offset: 0), .init(maxReplyBytes: 20)),
        ("array whose elements outgrow the reply limit", Array(("*1000\r\n" + String(repeating: ":1\r\n", count: 10)).utf8),
         .replyTooLarge(limit: 30, offset: 0), .init(maxReplyBytes: 30)),
        ("bulk over a custom limit", Array("$6\r\nhello!\r\n".utf8),
         .bulkStringTooLong(length: 6, limit: 5, offset: 1), .init(maxBulkLength: 5)),
        ("bulk data longer than its length", Array("$3\r\nabcd\r\n".utf8), .missingCRLF(offset: 7), .init()),
        ("bulk data without CRLF", Array("$3\r\nabc\rX".utf8), .missingCRLF(offset: 7), .init()),
        ("CR without LF", Array("+OK\rX".utf8), .missingCRLF(offset: 3), .init()),
        ("bare LF", Array("+OK\n".utf8), .missingCRLF(offset: 3), .init()),
        ("LF inside a length line", Array("$1\n\r\n".utf8), .missingCRLF(offset: 2), .init()),
        ("line over the limit, unterminated", Array(("+" + String(repeating: "a", count: 20)).utf8),
         .lineTooLong(limit: 16, offset: 1), .init(maxLineLength: 16)),
        ("line over the limit", Array(("-" + String(repeating: "a", count: 17) + "\r\n").utf8),
         .lineTooLong(limit: 16, offset: 1), .init(maxLineLength: 16)),
        ("nesting over the default limit", Array((String(repeating: "*1\r\n", count: 65) + ":1\r\n").utf8),
         .nestingTooDeep(limit: 64, offset: 256), .init()),
        ("empty array over the nesting limit", Array("*1\r\n*1\r\n*0\r\n".utf8),
         .nestingTooDeep(limit: 2, offset: 8), .init(maxNestingDepth: 2)),
        ("error after a good value", Array("+OK\r\n:x\r\n".utf8), .invalidInteger(text: "x", offset: 6), .init()),
    ]

    func testMalformedInputIsRejected() {
        for (name, bytes, expected, limits) in malformed {
            var decoder = RESPDecoder(limits: limits)
            decoder.feed(bytes)
            XCTAssertEqual(firstError(&decoder), expected, name)
            // The stream is out of step: the decoder keeps refusing.
            decoder.feed(Array("+OK\r\n".utf8))
            XCTAssertThrowsError(try decoder.next(), name) { XCTAssertEqual($0 as? RESPError, expected, name) }
        }
    }

    func testMalformedInputFedByteByByteIsRejectedTheSame() {
        for (name, bytes, expected, limits) in malformed {
            var decoder = RESPDecoder(limits: limits)
            var caught: RESPError?
            for byte in bytes where caught == nil {
                decoder.feed([byte])
                caught = firstError(&decoder)
            }
            XCTAssertEqual(caught, expected, name)
        }
    }

    func testErrorOffsetsCountFromTheStartOfTheStream() {
        var decoder = RESPDecoder()
        let good = Array(String(repeating: "+OK\r\n", count: 40_000).utf8)
        decoder.feed(good)
        while (try? decoder.next()) != nil {}
        decoder.feed(Array("+OK\r\n".utf8) + [0x07])
        XCTAssertEqual(try decoder.next(), .simpleString("OK"))
        XCTAssertThrowsError(try decoder.next()) {
            XCTAssertEqual($0 as? RESPError, .invalidTypeByte(0x07, offset: good.count + 5))
        }
    }

    func testRandomBytesNeverCrash() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array("+-:$*0123456789\r\n-1abc".utf8)
        for _ in 0..<2000 {
            var decoder = RESPDecoder(limits: .init(maxBulkLength: 64, maxNestingDepth: 4, maxLineLength: 32))
            var bytes: [UInt8] = []
            for _ in 0..<40 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            decoder.feed(bytes)
            while (try? decoder.next()) ?? nil != nil {}
        }
    }

    // MARK: helpers

    private func decodeAll(_ pieces: [[UInt8]]) throws -> [RESPValue] {
        var decoder = RESPDecoder()
        var values: [RESPValue] = []
        for piece in pieces {
            decoder.feed(piece)
            while let value = try decoder.next() { values.append(value) }
        }
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        return values
    }

    /// Pulls values until one throws; nil if none did.
    private func firstError(_ decoder: inout RESPDecoder) -> RESPError? {
        while true {
            do {
                if try decoder.next() == nil { return nil }
            } catch {
                return error as? RESPError
            }
        }
    }
}

private func bytesText(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}
