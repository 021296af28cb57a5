import Foundation
import XCTest
@testable import RedisAutopilot

final class S3XMLTests: XCTestCase {
    func testErrorDocumentFieldsAreRead() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>
            <Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint><Region>eu-west-1</Region><RequestId>R1</RequestId><HostId>H</HostId></Error>
            """
        let details = try S3ErrorDetails(element: S3XMLElement.parse(Array(text.utf8)))
        XCTAssertEqual(details, S3ErrorDetails(code: "PermanentRedirect",
                                               message: "The bucket you are attempting to access must be addressed using the specified endpoint.",
                                               requestID: "R1", region: "eu-west-1", endpoint: "b.s3.eu-west-1.amazonaws.com"))
        XCTAssertTrue(details.description.contains("bucket region eu-west-1"), details.description)
        XCTAssertThrowsError(try S3ErrorDetails(element: S3XMLElement.parse(Array("<Error><Message>m</Message></Error>".utf8))))
        XCTAssertThrowsError(try S3ErrorDetails(element: S3XMLElement.parse(Array("<Other><Code>c</Code></Other>".utf8))))
    }

    func testNamespacesEntitiesCDATAAndLeadingWhitespace() throws {
        let text = "  \n\n<?xml version=\"1.0\"?><R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><K>a &amp; &lt;b&gt; &quot;c&quot;</K><C><![CDATA[x<y]]></C></R>"
        let root = try S3XMLElement.parse(Array(text.utf8))
        XCTAssertEqual(root.name, "R")
        XCTAssertEqual(root.text(of: "K"), "a & <b> \"c\"")
        XCTAssertEqual(root.text(of: "C"), "x<y")
        XCTAssertNil(root.text(of: "missing"))
    }

    func testMalformedDocumentsThrow() {
        let inputs = ["", "   ", "text", "<a>", "<a><b></a>", "<a></b>", "<a>&nope;</a>", "<a/><b/>", "<a/>trailing",
                      "<a b=></a>", "\u{0}<a/>", "<?xml version=\"1.0\"?>", String(repeating: "<a>", count: 5000)]
        for input in inputs {
            XCTAssertThrowsError(try S3XMLElement.parse(Array(input.utf8)), input.prefix(40).description) { error in
                XCTAssertTrue(error is S3XMLError, "\(error)")
            }
        }
        XCTAssertThrowsError(try S3XMLElement.parse([0xff, 0xfe, 0x3c, 0x00]))
    }

    /// Issue 12, finding 5: 100,000 nested elements (700 KB, far under the
    /// 64 MiB body cap) built a tree whose recursive release overflowed the
    /// stack; any S3 answer, an error body included, could carry it.
    func testDeeplyNestedElementsAreRefusedNotACrash() throws {
        let depth = 100_000
        let deep = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        XCTAssertThrowsError(try S3XMLElement.parse(Array(deep.utf8))) { error in
            XCTAssertEqual(error as? S3XMLError, .malformed(detail: "elements nested deeper than 32"))
        }
        let errorBody = "<Error><Code>SlowDown</Code>" + deep + "</Error>"
        XCTAssertThrowsError(try S3XMLElement.parse(Array(errorBody.utf8)))
        let nested = String(repeating: "<a>", count: 32) + "x" + String(repeating: "</a>", count: 32)
        XCTAssertEqual(try S3XMLElement.parse(Array(nested.utf8)).name, "a")
    }

    /// Found by fuzzing (Tests/Fuzz/regressions/s3xml): Foundation's
    /// XMLParser traps on a name that is not valid UTF-8.
    func testANameThatIsNotUTF8IsRefusedNotACrash() {
        for body in [Array("<ListBucketResult xml".utf8) + [0xEE] + Array("s=\"x\"/>".utf8),
                     Array("<Error".utf8) + [0xC3] + Array("><Code>x</Code></Error>".utf8)] {
            XCTAssertThrowsError(try S3XMLElement.parse(body)) { error in
                XCTAssertEqual(error as? S3XMLError, .malformed(detail: "not UTF-8"))
            }
        }
    }

    /// Found by fuzzing (Tests/Fuzz/regressions/s3xml): Foundation's
    /// XMLParser dereferences NULL on a processing instruction without data.
    func testProcessingInstructionsAndDocumentTypesAreRefusedNotACrash() throws {
        for body in ["<Error><?x?><Code>x</Code></Error>", "<?xml version=\"1.0\"?><?x?><a/>", "<?x?><a/>", "<?xmlutf-7?><a/>", "<?xml x><a><?x?></a>",
                     "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "<a><!ENTITY e SYSTEM \"file:///etc/passwd\"></a>"] {
            XCTAssertThrowsError(try S3XMLElement.parse(Array(body.utf8)), body) { error in
                guard case .malformed? = error as? S3XMLError else { return XCTFail("\(error)") }
            }
        }
        let plain = try S3XMLElement.parse(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><!-- c --><b><![CDATA[<?x?>]]></b></a>".utf8))
        XCTAssertEqual(plain.text(of: "b"), "<?x?>")
    }

    func testEscapingRoundTrips() throws {
        let value = "\"9b2cf535f27731c974343645a3985328\" & <'x'>"
        let root = try S3XMLElement.parse(Array("<E>\(s3XMLEscape(value))</E>".utf8))
        XCTAssertEqual(root.text, value)
        // Found by fuzzing: "<" and "&" followed by a combining mark were not escaped.
        for tricky in [" <\u{31A}x", "\"etag&\u{301}\"", "<\u{301}/ETag><PartNumber>9"] {
            XCTAssertEqual(try S3XMLElement.parse(Array("<E>\(s3XMLEscape(tricky))</E>".utf8)).text, tricky)
        }
    }

    func testTimestamps() throws {
        XCTAssertEqual(try S3Timestamp.parse("2009-10-12T17:50:30.000Z"), Date(timeIntervalSince1970: 1_255_369_830))
        XCTAssertEqual(try S3Timestamp.parse("2009-10-12T17:50:30Z"), Date(timeIntervalSince1970: 1_255_369_830))
        XCTAssertEqual(try S3Timestamp.parse("2024-02-29T00:00:00.25Z"), Date(timeIntervalSince1970: 1_709_164_800.25))
        for bad in ["", "2009-10-12", "2009-10-12T17:50:30", "2009-10-12 17:50:30Z", "2009-13-12T17:50:30Z",
                    "2009-10-12T25:50:30Z", "2009-10-12T17:50:30.Z", "2009-10-12T17:50:30.1234567890Z", "２009-10-12T17:50:30Z",
                    "2009-1a-12T17:50:30Z", "2009-10-12T17:50:30+01:00"] {
            XCTAssertThrowsError(try S3Timestamp.parse(bad), bad)
        }
    }

    func testMultipartAnswers() throws {
        let initiated = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>"
        XCTAssertEqual(try s3UploadID(from: S3XMLElement.parse(Array(initiated.utf8))), "VXBsb2FkIElE")
        XCTAssertThrowsError(try s3UploadID(from: S3XMLElement.parse(Array("<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>".utf8))))

        let uploads = """
            <ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>p/b</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
            <Upload><Key>p/a</Key><UploadId>u1</UploadId></Upload><Upload><Key>p/b</Key><UploadId>u2</UploadId></Upload></ListMultipartUploadsResult>
            """
        let page = try S3IncompleteUploadsPage(element: S3XMLElement.parse(Array(uploads.utf8)))
        XCTAssertEqual(page.uploads, [S3IncompleteUpload(key: "p/a", uploadID: "u1"), S3IncompleteUpload(key: "p/b", uploadID: "u2")])
        XCTAssertEqual(page.next?.keyMarker, "p/b")
        XCTAssertEqual(page.next?.uploadIDMarker, "u2")
        XCTAssertThrowsError(try S3IncompleteUploadsPage(element: S3XMLElement.parse(Array("<ListMultipartUploadsResult><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>".utf8))))
    }
}
