import Foundation
import XCTest
@testable import RedisAutopilot

/// Paths, error bodies and directory listings: everything read from settings
/// or from Manta's answers, including malformed input.
final class MantaParsingTests: XCTestCase {
    func testDirectoryPathsAndTheLevelsToCreate() throws {
        let path = try MantaPath(parsing: "/alice/stor/triton-redis/prod//".replacingOccurrences(of: "//", with: "/"))
        XCTAssertEqual(path.segments, ["alice", "stor", "triton-redis", "prod"])
        XCTAssertEqual(path.description, "/alice/stor/triton-redis/prod")
        XCTAssertEqual(path.login, "alice")
        XCTAssertEqual(path.directoriesToCreate.map(\.description), ["/alice/stor/triton-redis", "/alice/stor/triton-redis/prod"])
        XCTAssertEqual(try MantaPath(parsing: "/alice/stor/").directoriesToCreate, [])
        XCTAssertEqual(try MantaPath(parsing: "/alice/public/x").description, "/alice/public/x")
        XCTAssertEqual(path.appending("dump-1.rdb.gz").description, "/alice/stor/triton-redis/prod/dump-1.rdb.gz")
    }

    func testPathsAreRefusedWithTheReason() {
        let bad = ["", "alice/stor", "/", "/alice", "/alice/jobs/x", "/alice/stor//x", "/alice/stor/../x",
                   "/alice/stor/./x", "/al%ice/stor", "/al ice/stor", "/alice/stor/a\u{0}b", "/alice/stor/a\nb"]
        for text in bad {
            XCTAssertThrowsError(try MantaPath(parsing: text), String(reflecting: text)) { error in
                guard case let MantaConfigurationError.invalidDirectory(path, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, text)
                XCTAssertFalse(reason.isEmpty)
            }
        }
    }

    func testWireFormIsPercentEncodedOutsideTheUnreservedSet() throws {
        let path = try MantaPath(parsing: "/alice/stor/a b/ü+x?y#z%").appending("n:1=2,3@4")
        XCTAssertEqual(path.encoded, "/alice/stor/a%20b/%C3%BC%2Bx%3Fy%23z%25/n%3A1%3D2%2C3%404")
        XCTAssertEqual(PercentEncoding.encode("Az09-._~"), "Az09-._~")
    }

    func testRefusalReadsMantasJSONError() throws {
        let path = try MantaPath(parsing: "/alice/stor/x")
        let body = #"{"code":"InvalidSignature","message":"The signature we calculated does not match the one you sent"}"#
        let error = MantaError.refusal(HTTPResponse(status: 403, reason: "Forbidden", body: Array(body.utf8)), method: "PUT", path: path)
        guard case let .refused(method, reportedPath, status, code, message) = error else { return XCTFail("\(error)") }
        XCTAssertEqual([method, reportedPath, code], ["PUT", "/alice/stor/x", "InvalidSignature"])
        XCTAssertEqual(status, 403)
        XCTAssertEqual(message, "The signature we calculated does not match the one you sent")
        XCTAssertEqual("\(error)", "Manta refused PUT /alice/stor/x: 403 InvalidSignature: The signature we calculated does not match the one you sent")
        XCTAssertFalse(error.isNotFound)
    }

    func testRefusalWithoutMantaJSONQuotesTheBodyShortAndOnOneLine() throws {
        let path = try MantaPath(parsing: "/alice/stor/x")
        let page = "<html>\r\n<body>\u{1B}[31m" + String(repeating: "gateway timeout ", count: 100) + "</body>"
        let cases: [(HTTPResponse, String?)] = [
            (HTTPResponse(status: 504, reason: "Gateway Timeout", body: Array(page.utf8)), nil),
            (HTTPResponse(status: 502, reason: "Bad Gateway"), "Bad Gateway"),
            (HTTPResponse(status: 500), "(no body)"),
            (HTTPResponse(status: 500, body: Array(#"{"code": 5, "message": "odd"}"#.utf8)), "odd"),
            (HTTPResponse(status: 500, body: Array(#"["not", "an", "object"]"#.utf8)), #"["not", "an", "object"]"#),
            (HTTPResponse(status: 500, body: [0xFF, 0xFE, 0x00, 0x41]), "\u{FFFD}\u{FFFD} A"),
        ]
        for (response, expected) in cases {
            guard case let .refused(_, _, _, code, message) = MantaError.refusal(response, method: "GET", path: path) else {
                return XCTFail("not a refusal")
            }
            XCTAssertNil(code)
            if let expected { XCTAssertEqual(message, expected) }
            XCTAssertLessThanOrEqual(message.count, 303)
            XCTAssertFalse(message.unicodeScalars.contains { $0.value < 0x20 }, message)
        }
        let missingDirectory = HTTPResponse(status: 404, body: Array(#"{"code":"DirectoryDoesNotExist","message":"/a/stor/x does not exist"}"#.utf8))
        let refusal = MantaError.refusal(missingDirectory, method: "PUT", path: path)
        XCTAssertTrue(refusal.isMissingDirectory)
        XCTAssertTrue(refusal.isNotFound)
    }

    func testListingLinesAreRead() throws {
        let path = try MantaPath(parsing: "/alice/stor/x")
        let body = """
            {"name":"a.rdb.gz","etag":"e1","size":1234,"type":"object","contentType":"application/gzip","contentMD5":"x","mtime":"2026-01-02T03:04:05.678Z","durability":2}\r
            {"name":"sub","type":"directory","mtime":"2013-05-22T17:39:43Z"}

            {"name":"ln","type":"link"}
            """
        let entries = try MantaDirectoryListing.parse(Array(body.utf8), path: path)
        XCTAssertEqual(entries.map(\.name), ["a.rdb.gz", "sub", "ln"])
        XCTAssertEqual(entries.map(\.kind), [.object, .directory, .other("link")])
        XCTAssertEqual(entries[0].size, 1234)
        XCTAssertEqual(try XCTUnwrap(entries[0].modified).timeIntervalSince1970, 1_767_323_045.678, accuracy: 0.0005)
        XCTAssertEqual(try XCTUnwrap(entries[1].modified).timeIntervalSince1970, 1_369_244_383)
        XCTAssertNil(entries[1].size)
        XCTAssertNil(entries[2].modified)
        XCTAssertEqual(try MantaDirectoryListing.parse([], path: path), [])
    }

    func testMalformedListingLinesThrowWithTheLine() throws {
        let path = try MantaPath(parsing: "/alice/stor/x")
        let bad = [
            "not json",
            "[1,2]",
            #"{"type":"object","size":1}"#,
            #"{"name":"","type":"object","size":1}"#,
            #"{"name":"a","size":1}"#,
            #"{"name":"a","type":"object"}"#,
            #"{"name":"a","type":"object","size":-1}"#,
            #"{"name":"a","type":"object","size":"12"}"#,
            #"{"name":"a","type":"object","size":1.5}"#,
            #"{"name":"a","type":"object","size":1,"mtime":"yesterday"}"#,
            #"{"name":"a","type":"directory","mtime":12}"#,
            "{\"name\":\"a\",\"type\":\"object\",\"size\":1}\n{\"name\":",
        ]
        for text in bad {
            XCTAssertThrowsError(try MantaDirectoryListing.parse(Array(text.utf8), path: path), text) { error in
                guard case let MantaError.malformedListing(reportedPath, reason) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(reportedPath, "/alice/stor/x")
                XCTAssertTrue(reason.hasPrefix("line "), reason)
            }
        }
        XCTAssertThrowsError(try MantaDirectoryListing.parse(Array("{\"name\":\"a\",\"type\":\"directory\"}\n\n{".utf8), path: path)) { error in
            XCTAssertTrue("\(error)".contains("line 3"), "\(error)")
        }
    }
}
