import XCTest
@testable import RedisAutopilot

final class DurationTextTests: XCTestCase {
    func testAcceptsGoAndConsulNotation() throws {
        let table: [(String, Duration)] = [
            ("500ms", .milliseconds(500)),
            ("30s", .seconds(30)),
            ("10m", .seconds(600)),
            ("24h", .seconds(86400)),
            ("1h30m", .seconds(5400)),
            ("1h0m10s", .seconds(3610)),
            ("1.5h", .seconds(5400)),
            ("0.5s", .milliseconds(500)),
            (".5s", .milliseconds(500)),
            ("5.s", .seconds(5)),
            ("2m3.25s", .milliseconds(123_250)),
            ("250us", .microseconds(250)),
            ("250\u{00B5}s", .microseconds(250)),
            ("250\u{03BC}s", .microseconds(250)),
            ("42ns", .nanoseconds(42)),
            ("0s", .zero),
            ("0", .zero),
            ("60", .seconds(60)),
            ("007", .seconds(7)),
            ("2562047h", .seconds(2_562_047 * 3600)),
        ]
        for (text, expected) in table {
            XCTAssertEqual(try DurationText.parse(text), expected, text)
        }
    }

    func testRejectsMalformedNegativeAndOverflowingText() {
        let table: [(String, DurationText.ParseError)] = [
            ("", .empty),
            ("-5s", .negative),
            ("-1", .negative),
            ("24x", .unknownUnit("x")),
            ("5sec", .unknownUnit("sec")),
            ("5S", .unknownUnit("S")),
            ("1.5.3s", .missingUnit(after: "1.5")),
            ("1.5", .missingUnit(after: "1.5")),
            ("1h30", .missingUnit(after: "30")),
            ("s", .missingNumber(at: "s")),
            ("ms", .missingNumber(at: "ms")),
            (".s", .missingNumber(at: ".s")),
            ("+5s", .missingNumber(at: "+5s")),
            (" 5s", .missingNumber(at: " 5s")),
            ("5s ", .unknownUnit("s ")),
            ("1h 30m", .unknownUnit("h ")),
            ("99999999999999999999", .overflow),
            ("9223372036854775808ns", .overflow),
            ("2562048h", .overflow),
            ("2562047h47m17s", .overflow),
        ]
        for (text, expected) in table {
            XCTAssertThrowsError(try DurationText.parse(text), text) { error in
                XCTAssertEqual(error as? DurationText.ParseError, expected, text)
            }
        }
    }

    func testLargestGoDurationIsExact() throws {
        XCTAssertEqual(try DurationText.parse("9223372036854775807ns"), .nanoseconds(Int64.max))
        XCTAssertEqual(try DurationText.parse("2562047h47m16.854775807s"), .nanoseconds(Int64.max))
    }

    func testFormatsShortestGoForm() {
        let table: [(Duration, String)] = [
            (.zero, "0s"),
            (.milliseconds(500), "500ms"),
            (.microseconds(3), "3us"),
            (.nanoseconds(7), "7ns"),
            (.seconds(30), "30s"),
            (.seconds(600), "10m"),
            (.seconds(5400), "1h30m"),
            (.seconds(86400), "24h"),
            (.milliseconds(1500), "1.5s"),
            (.seconds(3601), "1h1s"),
        ]
        for (duration, expected) in table {
            XCTAssertEqual(DurationText.format(duration), expected)
        }
    }

    func testFormattedTextParsesBackToTheSameDuration() throws {
        for text in ["1h30m", "500ms", "1.25s", "2562047h47m16.854775807s", "3us", "45m10s"] {
            let duration = try DurationText.parse(text)
            XCTAssertEqual(try DurationText.parse(DurationText.format(duration)), duration, text)
        }
    }

    func testUnitConversions() {
        XCTAssertEqual(Duration.milliseconds(1500).inSeconds, 1.5)
        XCTAssertEqual(Duration.seconds(5).inMilliseconds, 5000)
        XCTAssertEqual(Duration.microseconds(2500).inMilliseconds, 2)
    }
}
