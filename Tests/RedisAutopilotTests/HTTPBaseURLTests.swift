import XCTest
@testable import RedisAutopilot

final class HTTPBaseURLTests: XCTestCase {
    func testFullURLs() throws {
        let consul = try HTTPBaseURL(parsing: "http://127.0.0.1:8500")
        XCTAssertEqual(consul.scheme, .http)
        XCTAssertEqual(consul.host, "127.0.0.1")
        XCTAssertEqual(consul.port, 8500)
        XCTAssertEqual(consul.pathPrefix, "")
        XCTAssertEqual(consul.hostHeader, "127.0.0.1:8500")
        XCTAssertEqual(consul.endpoint, .tcp(host: "127.0.0.1", port: 8500))

        let manta = try HTTPBaseURL(parsing: "https://us-east.manta.joyent.com")
        XCTAssertEqual(manta.scheme, .https)
        XCTAssertEqual(manta.host, "us-east.manta.joyent.com")
        XCTAssertEqual(manta.port, 443)
        XCTAssertEqual(manta.hostHeader, "us-east.manta.joyent.com")
        XCTAssertEqual(manta.urlString(for: "/user/stor"), "https://us-east.manta.joyent.com/user/stor")

        let v6 = try HTTPBaseURL(parsing: "http://[::1]:9000/prefix")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.port, 9000)
        XCTAssertEqual(v6.pathPrefix, "/prefix")
        XCTAssertEqual(v6.hostHeader, "[::1]:9000")
        XCTAssertEqual(v6.fullTarget("/v1/kv"), "/prefix/v1/kv")
        XCTAssertEqual(v6.urlString(for: "/x?y=1"), "http://[::1]:9000/prefix/x?y=1")
        XCTAssertEqual(v6.endpoint.description, "[::1]:9000")
    }

    func testDefaultsAndNormalisation() throws {
        XCTAssertEqual(try HTTPBaseURL(parsing: "http://example.com").port, 80)
        XCTAssertEqual(try HTTPBaseURL(parsing: "HTTPS://Example.com:443/").hostHeader, "Example.com")
        XCTAssertEqual(try HTTPBaseURL(parsing: "https://s3.local:8443/").pathPrefix, "")
        XCTAssertEqual(try HTTPBaseURL(parsing: "http://h/a/b//").pathPrefix, "/a/b")
        XCTAssertEqual(try HTTPBaseURL(parsing: "http://[::1]").port, 80)
        XCTAssertEqual(try HTTPBaseURL(parsing: "http://consul_1:8500").host, "consul_1")
    }

    func testBareHostAndPortMeansHTTP() throws {
        let bare = try HTTPBaseURL(parsing: "127.0.0.1:8500")
        XCTAssertEqual(bare, HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 8500))
        XCTAssertEqual(try HTTPBaseURL(parsing: "consul").port, 80)
        XCTAssertEqual(try HTTPBaseURL(parsing: "[::1]:8500").host, "::1")
        XCTAssertEqual(try HTTPBaseURL(parsing: "localhost:65535").port, 65535)
    }

    func testMalformedInputThrowsTypedErrors() {
        let cases: [(String, HTTPBaseURLError)] = [
            ("", .empty),
            ("http://", .missingHost("http://")),
            (":8500", .missingHost(":8500")),
            ("http://:80", .missingHost("http://:80")),
            ("ftp://host", .unsupportedScheme("ftp")),
            ("://host", .unsupportedScheme("")),
            ("http://host:", .invalidPort("")),
            ("http://host:0", .invalidPort("0")),
            ("http://host:65536", .invalidPort("65536")),
            ("http://host:99999999999999999999999", .invalidPort("99999999999999999999999")),
            ("http://host:-1", .invalidPort("-1")),
            ("http://host:8a", .invalidPort("8a")),
            ("host:+80", .invalidPort("+80")),
            ("http://host:８０", .invalidPort("８０")),
            ("http://ho st", .containsWhitespace("http://ho st")),
            (" http://host", .containsWhitespace(" http://host")),
            ("http://host\n", .containsWhitespace("http://host\n")),
            ("http://user:secret@host", .userInfoNotAllowed),
            ("http://host/?token=secret", .queryOrFragmentNotAllowed),
            ("http://host#frag", .queryOrFragmentNotAllowed),
            ("http://::1:80", .invalidHost("::1:80")),
            ("http://[::1", .invalidHost("[::1")),
            ("http://[nothex]:80", .invalidHost("nothex")),
            ("http://[::1]x", .invalidHost("[::1]x")),
            ("http://-host", .invalidHost("-host")),
            ("http://hö st", .containsWhitespace("http://hö st")),
            ("http://höst", .invalidHost("höst")),
            ("http:/host", .invalidPort("")),
        ]
        for (input, expected) in cases {
            XCTAssertThrowsError(try HTTPBaseURL(parsing: input), input) { error in
                XCTAssertEqual(error as? HTTPBaseURLError, expected, input)
            }
        }
    }

    func testErrorsNeverRepeatCredentials() {
        XCTAssertThrowsError(try HTTPBaseURL(parsing: "https://admin:hunter2@host")) { error in
            XCTAssertFalse("\(error)".contains("hunter2"))
        }
        XCTAssertThrowsError(try HTTPBaseURL(parsing: "https://host/?X-Amz-Signature=abc123")) { error in
            XCTAssertFalse("\(error)".contains("abc123"))
        }
    }
}
