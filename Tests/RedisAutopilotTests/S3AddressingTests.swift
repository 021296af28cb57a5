import Foundation
import XCTest
@testable import RedisAutopilot

final class S3AddressingTests: XCTestCase {
    func testAWSDefaultIsVirtualHostOnTheRegionalEndpoint() throws {
        let configuration = S3StoreConfiguration(region: "eu-west-3", bucket: "my-backups",
                                                 credentials: SigV4Credentials(accessKeyID: "A", secretAccessKey: "S"))
        XCTAssertEqual(configuration.addressingStyle, .virtual)
        let address = try S3BucketAddress(endpoint: nil, region: "eu-west-3", bucket: "my-backups", style: configuration.addressingStyle)
        XCTAssertEqual(address.style, .virtual)
        XCTAssertEqual(address.baseURL.scheme, .https)
        XCTAssertEqual(address.baseURL.hostHeader, "my-backups.s3.eu-west-3.amazonaws.com")
        XCTAssertEqual(address.path(forKey: "redis/a b+c.gz"), "/redis/a%20b%2Bc.gz")
        XCTAssertEqual(address.path(forKey: nil), "/")
    }

    func testBucketsThatCannotBeAHostLabelUsePathStyleOnAWS() throws {
        for bucket in ["my.backups", "my_backups"] {
            let address = try S3BucketAddress(endpoint: nil, region: "us-east-1", bucket: bucket, style: .virtual)
            XCTAssertEqual(address.style, .path)
            XCTAssertEqual(address.baseURL.hostHeader, "s3.us-east-1.amazonaws.com")
            XCTAssertEqual(address.path(forKey: "k"), "/\(bucket)/k")
        }
    }

    func testCustomEndpointDefaultsToPathStyleAndKeepsItsPortAndPrefix() throws {
        let endpoint = try HTTPBaseURL(parsing: "http://minio.local:9000/s3/")
        let configuration = S3StoreConfiguration(endpoint: endpoint, region: "us-east-1", bucket: "backups",
                                                 credentials: SigV4Credentials(accessKeyID: "A", secretAccessKey: "S"))
        XCTAssertEqual(configuration.addressingStyle, .path)
        let address = try S3BucketAddress(endpoint: endpoint, region: "us-east-1", bucket: "backups", style: configuration.addressingStyle)
        XCTAssertEqual(address.style, .path)
        XCTAssertEqual(address.baseURL.hostHeader, "minio.local:9000")
        XCTAssertEqual(address.path(forKey: "x/y"), "/backups/x/y")
        XCTAssertEqual(address.path(forKey: nil), "/backups")
        XCTAssertEqual(address.canonicalPath(forKey: "x/y"), "/s3/backups/x/y")
    }

    func testVirtualHostOnACustomEndpointPutsTheBucketInTheHostName() throws {
        let address = try S3BucketAddress(endpoint: HTTPBaseURL(scheme: .https, host: "storage.example.com", port: 8443),
                                          region: "r1", bucket: "backups", style: .virtual)
        XCTAssertEqual(address.baseURL, HTTPBaseURL(scheme: .https, host: "backups.storage.example.com", port: 8443))
        XCTAssertEqual(address.baseURL.hostHeader, "backups.storage.example.com:8443")
        XCTAssertEqual(address.path(forKey: "k"), "/k")
        for host in ["127.0.0.1", "::1"] {
            XCTAssertThrowsError(try S3BucketAddress(endpoint: HTTPBaseURL(scheme: .http, host: host, port: 9000),
                                                     region: "r1", bucket: "backups", style: .virtual))
        }
    }

    func testConfigurationFromSettings() throws {
        let settings = S3Settings(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "token", region: "eu-north-1",
                                  endpoint: HTTPBaseURL(scheme: .https, host: "s3.example.net", port: 8443), bucket: "bk1",
                                  prefix: "redis/", addressingStyle: .virtual, partSize: 32 << 20)
        let configuration = S3StoreConfiguration(settings: settings, timeout: 12)
        XCTAssertEqual(configuration.endpoint, HTTPBaseURL(scheme: .https, host: "s3.example.net", port: 8443))
        XCTAssertEqual(configuration.region, "eu-north-1")
        XCTAssertEqual(configuration.bucket, "bk1")
        XCTAssertEqual(configuration.prefix, "redis/")
        XCTAssertEqual(configuration.credentials.accessKeyID, "AKID")
        XCTAssertEqual(configuration.credentials.secretAccessKey, "secret")
        XCTAssertEqual(configuration.credentials.sessionToken, "token")
        XCTAssertEqual(configuration.addressingStyle, .virtual)
        XCTAssertEqual(configuration.partSize, 32 << 20)
        XCTAssertEqual(configuration.timeout, 12)
        XCTAssertEqual(configuration.contentType, "application/gzip")
        let store = try S3Store(configuration: configuration, transportFactory: { _ in S3RecordingTransport.succeeding() })
        XCTAssertEqual(store.description, "S3 bucket bk1 at https://s3.example.net:8443, prefix redis/")
        XCTAssertEqual(store.client.address.baseURL.hostHeader, "bk1.s3.example.net:8443")
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
            let configuration = S3StoreConfiguration(endpoint: HTTPBaseURL(scheme: .http, host: "localhost", port: 9000),
                                                     region: "us-east-1", bucket: "bucket",
                                                     prefix: "p/", credentials: credentials, addressingStyle: style)
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
