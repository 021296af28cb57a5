import Foundation
import XCTest
@testable import RedisAutopilot

/// Known answers published by AWS: the Signature Version 4 test suite
/// (`get-vanilla`) and the worked examples of the S3 API reference
/// ("Signature Calculations for the Authorization Header").
final class SigV4SignerTests: XCTestCase {
    private static let suiteCredentials = SigV4Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// The S3 guide's secret differs from the test suite's by one character (`/bPxR`).
    private static let s3GuideCredentials = SigV4Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    private static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    private static func clock(_ text: String) -> @Sendable () -> Date {
        let formatter = ISO8601DateFormatter()
        let instant = formatter.date(from: text) ?? Date(timeIntervalSince1970: 0)
        return { instant }
    }

    func testGetVanillaFromTheSignatureV4TestSuite() {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service",
                                 clock: Self.clock("2015-08-30T12:36:00Z"))
        var headers = HTTPHeaders([("Host", "example.amazonaws.com")])
        let result = signer.sign(method: "GET", encodedPath: "/", query: [], headers: &headers,
                                 payloadHash: SigV4Signer.emptyPayloadHash)

        XCTAssertEqual(SigV4Signer.emptyPayloadHash, Self.emptyHash)
        XCTAssertEqual(result.canonicalRequest, """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(result.stringToSign, """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        XCTAssertEqual(result.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(headers["Authorization"], "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        XCTAssertEqual(headers["X-Amz-Date"], "20150830T123600Z")
        XCTAssertNil(headers["X-Amz-Security-Token"])
    }

    private var s3GuideSigner: SigV4Signer {
        SigV4Signer(credentials: Self.s3GuideCredentials, region: "us-east-1", service: "s3",
                    clock: Self.clock("2013-05-24T00:00:00Z"))
    }

    func testS3GuideGetObjectWithRange() {
        var headers = HTTPHeaders([
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", Self.emptyHash),
        ])
        let result = s3GuideSigner.sign(method: "GET", encodedPath: SigV4Encoding.path("/test.txt"), query: [],
                                        headers: &headers, payloadHash: Self.emptyHash)
        XCTAssertEqual(result.canonicalRequest, """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(result.stringToSign, """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        XCTAssertEqual(result.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertEqual(headers["Authorization"], "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// The key `test$file.text` shows the path encoding: `$` becomes `%24`.
    func testS3GuidePutObjectWithEncodedKeyAndPayloadHash() {
        let payloadHash = SHA256.hexDigest("Welcome to Amazon S3.")
        XCTAssertEqual(payloadHash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        var headers = HTTPHeaders([
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", payloadHash),
        ])
        let result = s3GuideSigner.sign(method: "PUT", encodedPath: SigV4Encoding.path("/test$file.text"), query: [],
                                        headers: &headers, payloadHash: payloadHash)
        XCTAssertEqual(result.canonicalRequest, """
            PUT
            /test%24file.text

            date:Fri, 24 May 2013 00:00:00 GMT
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            x-amz-date:20130524T000000Z
            x-amz-storage-class:REDUCED_REDUNDANCY

            date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
            44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
            """)
        XCTAssertEqual(result.stringToSign, """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d
            """)
        XCTAssertEqual(result.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    /// Query parameters are sorted: `max-keys` before `prefix`.
    func testS3GuideListObjectsWithQuery() {
        var headers = HTTPHeaders([
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", Self.emptyHash),
        ])
        let result = s3GuideSigner.sign(method: "GET", encodedPath: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                        headers: &headers, payloadHash: Self.emptyHash)
        XCTAssertEqual(result.canonicalRequest, """
            GET
            /
            max-keys=2&prefix=J
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(result.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    func testSessionTokenIsSentAndSigned() {
        let credentials = SigV4Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token/with+chars=")
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "s3",
                                 clock: Self.clock("2024-02-29T23:59:59Z"))
        var headers = HTTPHeaders([("Host", "b.s3.eu-west-1.amazonaws.com")])
        let result = signer.sign(method: "get", encodedPath: "/k", query: [], headers: &headers, payloadHash: Self.emptyHash)
        XCTAssertEqual(headers["X-Amz-Security-Token"], "token/with+chars=")
        XCTAssertTrue(result.canonicalRequest.hasPrefix("GET\n"))
        XCTAssertTrue(result.canonicalRequest.contains("\nx-amz-security-token:token/with+chars=\n"))
        XCTAssertTrue(result.authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
        XCTAssertTrue(result.stringToSign.contains("\n20240229T235959Z\n20240229/eu-west-1/s3/aws4_request\n"))
    }

    func testSigningTwiceReplacesTheOldAuthorization() {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service",
                                 clock: Self.clock("2015-08-30T12:36:00Z"))
        var headers = HTTPHeaders([("Host", "example.amazonaws.com")])
        let first = signer.sign(method: "GET", encodedPath: "/", query: [], headers: &headers, payloadHash: Self.emptyHash)
        let second = signer.sign(method: "GET", encodedPath: "/", query: [], headers: &headers, payloadHash: Self.emptyHash)
        XCTAssertEqual(first, second)
        XCTAssertEqual(headers.values("Authorization").count, 1)
        XCTAssertEqual(headers.values("X-Amz-Date").count, 1)
    }

    func testHeadersAreLowercasedTrimmedAndRepeatedFieldsJoined() {
        var headers = HTTPHeaders([
            ("My-Header1", "  a   b  c "),
            ("Host", "example.amazonaws.com"),
            ("my-header1", "second"),
            ("X-Amz-Meta-Z", "\tz"),
        ])
        let canonical = SigV4Signer.canonicalHeaders(headers)
        XCTAssertEqual(canonical.map(\.name), ["host", "my-header1", "x-amz-meta-z"])
        XCTAssertEqual(canonical.map(\.value), ["example.amazonaws.com", "a b c,second", "z"])
        headers.add("Authorization", "old")
        XCTAssertFalse(SigV4Signer.canonicalHeaders(headers).map(\.name).contains("authorization"))
    }

    func testURIEncodingRulesOfS3() {
        XCTAssertEqual(SigV4Encoding.path("/a b/c+d/e=f,g@h:i~j_k-l.m/%"), "/a%20b/c%2Bd/e%3Df%2Cg%40h%3Ai~j_k-l.m/%25")
        XCTAssertEqual(SigV4Encoding.component("a/b c+d"), "a%2Fb%20c%2Bd")
        XCTAssertEqual(SigV4Encoding.component("ключ"), "%D0%BA%D0%BB%D1%8E%D1%87")
        XCTAssertEqual(SigV4Encoding.component("AZaz09-._~"), "AZaz09-._~")
        XCTAssertEqual(SigV4Encoding.component(""), "")
    }

    func testCanonicalQuerySortsByEncodedNameThenValue() {
        XCTAssertEqual(SigV4Signer.canonicalQuery([("uploads", "")]), "uploads=")
        XCTAssertEqual(SigV4Signer.canonicalQuery([("b", "2"), ("a", "x y"), ("a", "+"), ("A", "1")]),
                       "A=1&a=%2B&a=x%20y&b=2")
        XCTAssertEqual(SigV4Signer.canonicalQuery([("continuation-token", "1/2+3=")]),
                       "continuation-token=1%2F2%2B3%3D")
        XCTAssertEqual(SigV4Signer.canonicalQuery([]), "")
    }

    func testTimestampIsUTCWithoutFractions() {
        let timestamp = SigV4Timestamp(Date(timeIntervalSince1970: 1_000_000_000.999))
        XCTAssertEqual(timestamp.dateTime, "20010909T014640Z")
        XCTAssertEqual(timestamp.date, "20010909")
    }

    func testCredentialsNeverShowTheSecret() {
        let credentials = SigV4Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s3cr3t-value", sessionToken: "tok")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            XCTAssertFalse(text.contains("s3cr3t-value"), text)
            XCTAssertTrue(text.contains("AKIDEXAMPLE"), text)
        }
    }
}
