import Foundation
import XCTest
@testable import RedisAutopilot

final class S3AddressingTests: XCTestCase {
    func testAWSDefaultIsVirtualHostOnTheRegionalEndpoint() throws {
        let address = try S3BucketAddress(endpoint: nil, region: "eu-west-3", bucket: "my-backups", style: .auto)
        XCTAssertEqual(address.style, .virtual)
        XCTAssertEqual(address.baseURL.scheme, .https)
        XCTAssertEqual(address.baseURL.hostHeader, "my-backups.s3.eu-west-3.amazonaws.com")
        XCTAssertEqual(address.path(forKey: "redis/a b+c.gz"), "/redis/a%20b%2Bc.gz")
        XCTAssertEqual(address.path(forKey: nil), "/")
    }

    func testBucketsThatCannotBeAHostLabelUsePathStyleOnAWS() throws {
        let address = try S3BucketAddress(endpoint: nil, region: "us-east-1", bucket: "my.backups", style: .auto)
        XCTAssertEqual(address.style, .path)
        XCTAssertEqual(address.baseURL.hostHeader, "s3.us-east-1.amazonaws.com")
        XCTAssertEqual(address.path(forKey: "k"), "/my.backups/k")
        XCTAssertThrowsError(try S3BucketAddress(endpoint: nil, region: "us-east-1", bucket: "my.backups", style: .virtual))
    }

    func testCustomEndpointDefaultsToPathStyleAndKeepsItsPortAndPrefix() throws {
        let address = try S3BucketAddress(endpoint: "http://minio.local:9000/s3/", region: "us-east-1", bucket: "backups", style: .auto)
        XCTAssertEqual(address.style, .path)
        XCTAssertEqual(address.baseURL.hostHeader, "minio.local:9000")
        XCTAssertEqual(address.path(forKey: "x/y"), "/backups/x/y")
        XCTAssertEqual(address.path(forKey: nil), "/backups")
        XCTAssertEqual(address.canonicalPath(forKey: "x/y"), "/s3/backups/x/y")
    }

    func testVirtualHostOnACustomEndpointPutsTheBucketInTheHostName() throws {
        let address = try S3BucketAddress(endpoint: "https://storage.example.com:8443", region: "r1", bucket: "backups", style: .virtual)
        XCTAssertEqual(address.baseURL, HTTPBaseURL(scheme: .https, host: "backups.storage.example.com", port: 8443))
        XCTAssertEqual(address.baseURL.hostHeader, "backups.storage.example.com:8443")
        XCTAssertEqual(address.path(forKey: "k"), "/k")
        XCTAssertThrowsError(try S3BucketAddress(endpoint: "http://127.0.0.1:9000", region: "r1", bucket: "backups", style: .virtual))
        XCTAssertThrowsError(try S3BucketAddress(endpoint: "http://[::1]:9000", region: "r1", bucket: "backups", style: .virtual))
    }

    func testBucketNameRules() {
        for good in ["abc", "my-bucket", "my.bucket", "a_b", "0ab", String(repeating: "a", count: 63)] {
            XCTAssertTrue(S3BucketAddress.isValidBucketName(good), good)
        }
        for bad in ["", "ab", "Abc", "-ab", "ab-", "a..b", "a/b", "a b", "ab?", String(repeating: "a", count: 64), "bücket"] {
            XCTAssertFalse(S3BucketAddress.isValidBucketName(bad), bad)
        }
    }

    func testStoreSignsTheHostItSendsForEitherStyle() throws {
        let credentials = SigV4Credentials(accessKeyID: "AKID", secretAccessKey: "secret")
        for (style, host, target) in [(S3AddressingStyle.path, "localhost:9000", "/bucket/p/n"),
                                      (.virtual, "bucket.localhost:9000", "/p/n")] {
            var factoryURL: HTTPBaseURL?
            let transport = S3RecordingTransport { _ in HTTPResponse(status: 200) }
            let configuration = S3StoreConfiguration(endpoint: "http://localhost:9000", region: "us-east-1", bucket: "bucket",
                                                     prefix: "p", credentials: credentials, addressingStyle: style)
            let store = try S3Store(configuration: configuration, transportFactory: { factoryURL = $0; return transport })
            try store.delete(name: "n")
            XCTAssertEqual(factoryURL?.hostHeader, host)
            for sent in transport.sent {
                XCTAssertEqual(sent.request.target, target)
                XCTAssertEqual(sent.request.headers["Host"], host)
                XCTAssertTrue(sent.request.headers["Authorization"]?.contains("SignedHeaders=host;") == true)
            }
        }
    }
}
