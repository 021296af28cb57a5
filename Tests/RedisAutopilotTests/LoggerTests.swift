import Foundation
import XCTest
@testable import RedisAutopilot

final class LoggerTests: XCTestCase {
    /// 2026-01-02T03:04:05.678Z
    private let fixedTime = Date(timeIntervalSince1970: 1_767_323_045.678)

    private func makeLogger(level: LogLevel = .debug, format: LogFormat = .text, secrets: [String] = []) -> (Logger, InMemoryLogSink) {
        let sink = InMemoryLogSink()
        let time = fixedTime
        let logger = Logger(settings: LogSettings(level: level, format: format), secrets: secrets, sink: sink, clock: { time })
        return (logger, sink)
    }

    private func parseJSON(_ line: String, file: StaticString = #filePath, line number: UInt = #line) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(line)", file: file, line: number)
    }

    func testLevelFiltersLowerEvents() {
        let (logger, sink) = makeLogger(level: .warn)
        logger.debug("d")
        logger.info("i")
        logger.warn("w")
        logger.error("e")
        XCTAssertEqual(sink.lines.map { $0.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)[1] }, ["WARN", "ERROR"])
        XCTAssertFalse(logger.isEnabled(.info))
        XCTAssertTrue(logger.isEnabled(.error))
    }

    func testEveryLevelPassesAtDebug() {
        let (logger, sink) = makeLogger(level: .debug)
        for level in LogLevel.allCases { logger.log(level, "x") }
        XCTAssertEqual(sink.lines.count, LogLevel.allCases.count)
    }

    func testMessageIsNotBuiltWhenFiltered() {
        let (logger, _) = makeLogger(level: .error)
        var built = false
        logger.debug({ built = true; return "expensive" }())
        XCTAssertFalse(built)
    }

    func testTextLineLayout() {
        let (logger, sink) = makeLogger()
        logger.info("became master", ["port": 6379, "host": "10.0.0.5"])
        logger.error("failed")
        logger.debug("d")
        logger.warn("w")
        XCTAssertEqual(sink.lines, [
            "2026-01-02T03:04:05.678Z INFO  became master port=6379 host=10.0.0.5",
            "2026-01-02T03:04:05.678Z ERROR failed",
            "2026-01-02T03:04:05.678Z DEBUG d",
            "2026-01-02T03:04:05.678Z WARN  w",
        ])
    }

    func testTextQuotesAndEscapesAwkwardValues() {
        let (logger, sink) = makeLogger()
        logger.info("two\nlines", ["empty": "", "spaced": "a b", "quote": "say \"hi\"", "newline": "x\ny", "back": "c:\\d", "odd key": "v"])
        XCTAssertEqual(sink.lines.count, 1)
        XCTAssertEqual(
            sink.lines[0],
            #"2026-01-02T03:04:05.678Z INFO  two\nlines empty="" spaced="a b" quote="say \"hi\"" newline="x\ny" back="c:\\d" odd_key=v"#
        )
    }

    func testJSONLinesParseBackWithTheirFields() throws {
        let (logger, sink) = makeLogger(format: .json)
        let message = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} del \u{7F} é 日本 🚀 \u{2028}"
        logger.warn(message, ["count": 3, "ratio": 0.5, "ok": true, "name": "redis-replica", "msg": "shadow", "text": "line1\nline2\u{1B}[0m"])
        XCTAssertEqual(sink.lines.count, 1)
        let line = sink.lines[0]
        XCTAssertFalse(line.contains("\n"))
        XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 })
        let object = try parseJSON(line)
        XCTAssertEqual(object["time"] as? String, "2026-01-02T03:04:05.678Z")
        XCTAssertEqual(object["level"] as? String, "WARN")
        XCTAssertEqual(object["msg"] as? String, message)
        XCTAssertEqual(object["count"] as? Int, 3)
        XCTAssertEqual(object["ratio"] as? Double, 0.5)
        XCTAssertEqual(object["ok"] as? Bool, true)
        XCTAssertEqual(object["name"] as? String, "redis-replica")
        XCTAssertEqual(object["_msg"] as? String, "shadow")
        XCTAssertEqual(object["text"] as? String, "line1\nline2\u{1B}[0m")
        XCTAssertTrue(line.hasPrefix(#"{"time":"2026-01-02T03:04:05.678Z","level":"WARN","msg":"#), line)
    }

    func testSecretsAreRedactedEverywhereInBothFormats() throws {
        let secrets = ["hunter2", "hunter2-longer", "tok"]
        for format in [LogFormat.text, .json] {
            let (logger, sink) = makeLogger(format: format, secrets: secrets)
            logger.error("auth failed with hunter2-longer and hunter2", ["detail": "WRONGPASS hunter2", "hunter2": "key", "n": 123])
            let line = try XCTUnwrap(sink.lines.first)
            XCTAssertFalse(line.contains("hunter2"), line)
            XCTAssertFalse(line.contains("tok"), line)
            XCTAssertFalse(line.contains("-longer"), "longest secret first: \(line)")
            if format == .json {
                let object = try parseJSON(line)
                XCTAssertEqual(object["msg"] as? String, "auth failed with *** and ***")
                XCTAssertEqual(object["detail"] as? String, "WRONGPASS ***")
                XCTAssertEqual(object["***"] as? String, "key")
                XCTAssertEqual(object["n"] as? Int, 123)
            } else {
                XCTAssertTrue(line.hasSuffix("ERROR auth failed with *** and *** detail=\"WRONGPASS ***\" ___=key n=123"), line)
            }
        }
    }

    func testNumericFieldMatchingASecretBecomesARedactedString() throws {
        let (logger, sink) = makeLogger(format: .json, secrets: ["6379"])
        logger.info("x", ["port": 6379])
        let object = try parseJSON(try XCTUnwrap(sink.lines.first))
        XCTAssertEqual(object["port"] as? String, "***")
    }

    func testEmptySecretsAreIgnored() {
        let (logger, sink) = makeLogger(secrets: ["", ""])
        logger.info("plain")
        XCTAssertTrue(sink.lines[0].hasSuffix("INFO  plain"))
    }

    func testConcurrentLoggingKeepsEveryLineWhole() throws {
        let (logger, sink) = makeLogger(format: .json)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<200 {
                logger.info("event", ["worker": worker, "index": index])
            }
        }
        XCTAssertEqual(sink.lines.count, 1600)
        var seen = Set<String>()
        for line in sink.lines {
            let object = try parseJSON(line)
            seen.insert("\(object["worker"] ?? "")-\(object["index"] ?? "")")
        }
        XCTAssertEqual(seen.count, 1600)
    }

    func testTimestampsAroundTheEpochAndMillisecondRounding() {
        XCTAssertEqual(LogLineFormatter.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(LogLineFormatter.timestamp(Date(timeIntervalSince1970: -0.001)), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(LogLineFormatter.timestamp(Date(timeIntervalSince1970: 1_767_323_045.999_9)), "2026-01-02T03:04:05.999Z")
        XCTAssertEqual(LogLineFormatter.timestamp(Date(timeIntervalSince1970: 951_782_400)), "2000-02-29T00:00:00.000Z")
    }
}
