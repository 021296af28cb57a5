import Foundation
import Glibc
import XCTest
@testable import RedisAutopilot

/// MantaStore against the Manta double (Tests/doubles/manta_double.py), a
/// real process that checks every request's signature with OpenSSL and keeps
/// the objects on disk.
final class MantaStoreTests: XCTestCase {
    private static let user = "alice"
    private static let subuser = "backup"
    private static let roles = ["operator", "writer"]
    private static let directory = "/alice/stor/triton-redis"
    private static let keys = Result { try MantaTestKeys.generate() }

    private var scratch: TemporaryDirectory!
    private var double: MantaDoubleProcess!

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory()
        double = try MantaDoubleProcess(scratch: scratch, arguments: Self.doubleArguments(in: scratch))
    }

    private static func doubleArguments(in scratch: TemporaryDirectory) throws -> [String] {
        let keys = try Self.keys.get()
        let accountPublic = try scratch.write("account.pub", Array(keys.accountPublic.utf8))
        let subuserKey = try scratch.write("subuser.pem", Array(keys.subuser.utf8))
        return [
            "--user", Self.user, "--public-key", accountPublic,
            "--subuser", Self.subuser, "--subuser-public-key", subuserKey,
        ] + Self.roles.flatMap { ["--role", $0] }
    }

    override func tearDown() {
        double?.stop()
        double = nil
        scratch = nil
    }

    private func makeStore(directory: String = MantaStoreTests.directory, key: String? = nil, subuser: String? = nil,
                           roles: [String] = [], keyID: MantaKeyID? = nil,
                           transportFactory: (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0) }) throws -> MantaStore {
        let privateKey = try RSAPrivateKey(parsing: key ?? Self.keys.get().account)
        return try MantaStore(baseURL: double.baseURL, user: Self.user, subuser: subuser, roles: roles,
                              privateKey: privateKey, keyID: keyID, directory: directory, timeout: 30,
                              transportFactory: transportFactory)
    }

    private func storedPath(_ name: String, in directory: String = MantaStoreTests.directory) -> String {
        double.root + directory + "/" + name
    }

    // MARK: - Round trips

    func testRoundTripsOfZeroOneAndThreeMillionBytesWithKnownAndUnknownLength() throws {
        let store = try makeStore()
        for (name, bytes) in [("empty", [UInt8]()), ("one", [0x2A]), ("three-mb", randomBytes(count: 3_000_000, seed: 3))] {
            for length in [bytes.count, nil] {
                try store.put(name: name, from: BytesSource(bytes), length: length)
                let sink = BytesSink()
                try store.get(name: name, into: sink)
                XCTAssertTrue(sink.bytes == bytes, "\(name), length \(String(describing: length))")
                XCTAssertTrue(try Array(Data(contentsOf: URL(fileURLWithPath: storedPath(name)))) == bytes)
            }
        }
        let objectPuts = try double.requests().filter { $0.method == "PUT" && $0.path.hasPrefix(Self.directory + "/") }
        // The first found the directory missing; the store made it and sent the object again.
        XCTAssertEqual(objectPuts.map(\.status), ["404"] + Array(repeating: "204", count: 6))
        XCTAssertEqual(try store.list().map(\.name), ["empty", "one", "three-mb"])
        XCTAssertEqual(try store.list().map(\.size), [0, 1, 3_000_000])
    }

    /// Unknown length, as a backup streamed through gzip is sent. Slow in a
    /// debug build (the MD5 of 2 x 200 MB), quick in release.
    func testTwoHundredMegabytesStreamBothWaysInBoundedMemory() throws {
        let store = try makeStore()
        let total = 200 * 1024 * 1024
        try resetPeakResidentMemory()
        let baseline = residentBytes()
        var source: PatternSource?
        try store.put(name: "big.rdb.gz", from: UploadSource(length: nil) {
            source = PatternSource(total: total)
            return source!
        })
        XCTAssertEqual(source?.offset, total)
        let sink = PatternCheckingSink()
        try store.get(name: "big.rdb.gz", into: sink)
        XCTAssertEqual(sink.offset, total)
        XCTAssertNil(sink.firstMismatch, "received bytes differ from those sent")
        XCTAssertEqual(try store.list().map(\.size), [total])

        let growth = peakResidentBytes() - baseline
        let doublePeak = try double.peakResidentBytes()
        print("Manta put and get of \(total) bytes: test process peak RSS grew by \(growth / 1024) KiB, double's peak RSS \(doublePeak / 1024) KiB")
        XCTAssertLessThan(growth, 64 * 1024 * 1024)
        XCTAssertLessThan(doublePeak, 100 * 1024 * 1024)
    }

    /// The real Manta is reached over https: the same round trips and
    /// refusals through TLS, the double's certificate from the test CA.
    func testRoundTripsAndRefusalsOverHTTPS() throws {
        let certificates = try TestCertificates.shared.get()
        double.stop()
        double = try MantaDoubleProcess(scratch: scratch, arguments: Self.doubleArguments(in: scratch) + [
            "--tls-cert", certificates.serverCertificate, "--tls-key", certificates.serverKey,
        ])
        XCTAssertEqual(double.baseURL.scheme, .https)
        let overTLS: (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0, trust: .caFile(certificates.caFile)) }
        let store = try makeStore(transportFactory: overTLS)
        for (name, bytes) in [("empty", [UInt8]()), ("one", [0x2A]), ("three-mb", randomBytes(count: 3_000_000, seed: 4))] {
            for length in [bytes.count, nil] {
                try store.put(name: name, from: BytesSource(bytes), length: length)
                let sink = BytesSink()
                try store.get(name: name, into: sink)
                XCTAssertTrue(sink.bytes == bytes, "\(name), length \(String(describing: length))")
            }
        }
        XCTAssertEqual(try store.list().map(\.name), ["empty", "one", "three-mb"])
        try store.delete(name: "one")
        XCTAssertThrowsError(try store.get(name: "one", into: BytesSink())) { error in
            guard case BackupStoreError.notFound(_, "one") = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try store.put(name: "short", from: BytesSource([1, 2]), length: 5)) { error in
            guard case BackupStoreError.lengthMismatch(_, "short", 5, _) = error else { return XCTFail("\(error)") }
        }
        let stranger = try makeStore(key: Self.keys.get().stranger, transportFactory: overTLS)
        XCTAssertThrowsError(try stranger.put(name: "x", from: BytesSource([1]), length: nil)) { error in
            self.assertRefused(error, status: 403, code: "KeyDoesNotExist", operation: "put")
        }
    }

    // MARK: - Authentication

    func testSubuserAndRolesAreSentOnEveryRequest() throws {
        let store = try makeStore(key: Self.keys.get().subuser, subuser: Self.subuser, roles: Self.roles)
        try store.put(name: "dump.rdb.gz", from: BytesSource(Array("by the subuser".utf8)), length: nil)
        let sink = BytesSink()
        try store.get(name: "dump.rdb.gz", into: sink)
        XCTAssertEqual(sink.bytes, Array("by the subuser".utf8))
        XCTAssertEqual(try store.list().map(\.name), ["dump.rdb.gz"])
        try store.delete(name: "dump.rdb.gz")

        let requests = try double.requests()
        XCTAssertEqual(requests.map(\.method), ["PUT", "PUT", "PUT", "GET", "GET", "DELETE"])
        for request in requests {
            XCTAssertEqual(request.subuser, Self.subuser, "\(request)")
            XCTAssertEqual(request.role, "operator,writer", "\(request)")
            XCTAssertEqual(request.keyID, try RSAPrivateKey(parsing: Self.keys.get().subuser).md5Fingerprint)
        }
    }

    func testRoleMantaDoesNotKnowIsSurfaced() throws {
        let store = try makeStore(roles: ["operator", "admin"])
        XCTAssertThrowsError(try store.list()) { error in
            self.assertRefused(error, status: 409, code: "InvalidRole", operation: "list")
        }
    }

    func testKeyMantaDoesNotKnowIsRefusedWith403() throws {
        let store = try makeStore(key: Self.keys.get().stranger)
        XCTAssertThrowsError(try store.put(name: "x", from: BytesSource([1, 2, 3]), length: 3)) { error in
            self.assertRefused(error, status: 403, code: "KeyDoesNotExist", operation: "put")
        }
        XCTAssertThrowsError(try store.get(name: "x", into: BytesSink())) { error in
            self.assertRefused(error, status: 403, code: "KeyDoesNotExist", operation: "get")
        }
        XCTAssertEqual(try double.requests().map(\.status), ["403", "403"])
    }

    func testClockTenMinutesOffIsRefusedByTheServer() throws {
        let key = try RSAPrivateKey(parsing: Self.keys.get().account)
        for (offset, code, message) in [(-600.0, "RequestExpired", "Date header is too old"), (600.0, "InvalidHeader", "clock skew")] {
            let signer = try MantaRequestSigner(user: Self.user, privateKey: key, clock: { Date().addingTimeInterval(offset) })
            let store = MantaStore(baseURL: double.baseURL, signer: signer, directory: try MantaPath(parsing: Self.directory),
                                   timeout: 30, transport: HTTPClient(baseURL: double.baseURL))
            XCTAssertThrowsError(try store.list()) { error in
                self.assertRefused(error, status: 400, code: code, operation: "list")
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    func testWrongKeyIDIsRefusedBeforeAnyRequest() throws {
        let key = try RSAPrivateKey(parsing: Self.keys.get().account)
        let stranger = try RSAPrivateKey(parsing: Self.keys.get().stranger)
        var transportsMade = 0
        for text in [stranger.md5Fingerprint, stranger.sha256Fingerprint] {
            let keyID = try MantaKeyID.parse(text)
            XCTAssertThrowsError(try MantaStore(baseURL: double.baseURL, user: Self.user, privateKey: key, keyID: keyID,
                                                directory: Self.directory, timeout: 30,
                                                transportFactory: { transportsMade += 1; return HTTPClient(baseURL: $0) })) { error in
                XCTAssertEqual(error as? MantaConfigurationError,
                               .keyIDMismatch(given: keyID, md5: key.md5Fingerprint, sha256: key.sha256Fingerprint))
                XCTAssertTrue("\(error)".hasPrefix("MANTA_KEY_ID \(text) does not match"), "\(error)")
            }
        }
        XCTAssertEqual(transportsMade, 0)
        XCTAssertEqual(try double.requests().count, 0)
        // The right one, in either form, is accepted.
        for text in [key.md5Fingerprint, key.sha256Fingerprint] {
            XCTAssertEqual(try makeStore(keyID: try MantaKeyID.parse(text)).list(), [])
        }
    }

    func testStoreFromSettingsWithAKeyWhoseNewlinesAreHashes() throws {
        let keys = try Self.keys.get()
        let settings = MantaSettings(url: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: double.port),
                                     user: Self.user, subuser: Self.subuser, roles: Self.roles,
                                     keyID: try MantaKeyID.parse(try RSAPrivateKey(parsing: keys.subuser).sha256Fingerprint),
                                     privateKey: keys.subuser.replacingOccurrences(of: "\n", with: "#"),
                                     bucket: "/alice/stor/from-settings")
        let store = try MantaStore(settings: settings, timeout: 30)
        XCTAssertEqual(store.description, "Manta http://127.0.0.1:\(double.port)/alice/stor/from-settings")
        try store.put(name: "dump", from: BytesSource([1, 2, 3]), length: 3)
        XCTAssertEqual(try store.list().map(\.name), ["dump"])
        XCTAssertEqual(try double.requests().last?.subuser, Self.subuser)

        var broken = settings
        broken.privateKey = "-----BEGIN RSA PRIVATE KEY-----#bm90IGEga2V5#-----END RSA PRIVATE KEY-----"
        XCTAssertThrowsError(try MantaStore(settings: broken, timeout: 30)) { error in
            guard case MantaConfigurationError.invalidPrivateKey = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".hasPrefix("MANTA_PRIVATE_KEY cannot sign Manta requests"), "\(error)")
            XCTAssertFalse("\(error)".contains("bm90IGEga2V5"), "\(error)")
        }
    }

    // MARK: - Directories

    func testMissingDirectoriesAreCreatedWhenTheFirstUploadFindsThemMissing() throws {
        let store = try makeStore(directory: "/alice/stor/a/b/c")
        try store.put(name: "one", from: BytesSource([1]), length: 1)
        try store.put(name: "two", from: BytesSource([2]), length: nil)
        let requests = try double.requests()
        XCTAssertEqual(requests.map { "\($0.method) \($0.path) \($0.status)" }, [
            "PUT /alice/stor/a/b/c/one 404",
            "PUT /alice/stor/a 204",
            "PUT /alice/stor/a/b 204",
            "PUT /alice/stor/a/b/c 204",
            "PUT /alice/stor/a/b/c/one 204",
            "PUT /alice/stor/a/b/c/two 204",
        ])
        XCTAssertTrue(FileManager.default.fileExists(atPath: storedPath("two", in: "/alice/stor/a/b/c")))
    }

    /// Nothing is listed before an upload: a subuser whose role may put but
    /// not list can back up.
    func testAnExistingDirectoryCostsNoRequest() throws {
        try makeStore().put(name: "first", from: BytesSource([1]), length: 1)
        try double.clearRequests()
        let store = try makeStore()
        try store.put(name: "second", from: BytesSource([2]), length: 1)
        XCTAssertEqual(try double.requests().map { "\($0.method) \($0.path)" }, ["PUT \(Self.directory)/second"])
    }

    func testDirectoryDeletedBetweenPutsIsMadeAgain() throws {
        let store = try makeStore()
        try store.put(name: "first", from: BytesSource([1]), length: 1)
        try store.delete(name: "first")
        try rawClient().delete(try MantaPath(parsing: Self.directory))
        try store.put(name: "second", from: BytesSource([2]), length: 1)
        XCTAssertEqual(try store.list().map(\.name), ["second"])
    }

    func testObjectWhereTheDirectoryShouldBeIsReported() throws {
        let store = try makeStore(directory: "/alice/stor/taken")
        _ = try rawClient().putObject(try MantaPath(parsing: "/alice/stor/taken"), length: 1, maximumLength: nil,
                                      contentType: "text/plain") { BytesSource([1]) }
        XCTAssertThrowsError(try store.put(name: "x", from: BytesSource([2]), length: 1)) { error in
            self.assertRefused(error, status: 400, code: "ParentNotDirectory", operation: "put")
        }
    }

    // MARK: - Listing and deleting

    func testListSkipsWhatIsNotABackupAndDeleteRemoves() throws {
        let store = try makeStore()
        let before = Date()
        for (name, size) in [("dump-2", 20), ("dump-1", 10), ("dump-3", 30)] {
            try store.put(name: name, from: BytesSource(randomBytes(count: size, seed: UInt64(size))), length: size)
        }
        let client = try rawClient()
        try client.putDirectory(try MantaPath(parsing: Self.directory + "/subdirectory"))
        _ = try client.putObject(try MantaPath(parsing: Self.directory).appending(".hidden"), length: 1, maximumLength: nil,
                                 contentType: "text/plain") { BytesSource([1]) }
        let listed = try store.list()
        XCTAssertEqual(listed.map(\.name), ["dump-1", "dump-2", "dump-3"])
        XCTAssertEqual(listed.map(\.size), [10, 20, 30])
        for object in listed {
            XCTAssertEqual(try XCTUnwrap(object.modified).timeIntervalSince1970, before.timeIntervalSince1970, accuracy: 60)
        }
        try store.delete(name: "dump-2")
        XCTAssertEqual(try store.list().map(\.name), ["dump-1", "dump-3"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: storedPath("dump-2")))
        XCTAssertThrowsError(try store.delete(name: "dump-2")) { error in
            guard case BackupStoreError.notFound(_, "dump-2") = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try store.get(name: "dump-2", into: BytesSink())) { error in
            guard case BackupStoreError.notFound(_, "dump-2") = error else { return XCTFail("\(error)") }
        }
    }

    func testListPagesThroughTheInclusiveMarker() throws {
        let store = try makeStore()
        let names = (1...7).map { "dump-\($0)" }
        for name in names.reversed() {
            try store.put(name: name, from: BytesSource(Array(name.utf8)), length: nil)
        }
        try double.clearRequests()
        store.listPageSize = 3
        XCTAssertEqual(try store.list().map(\.name), names)
        XCTAssertEqual(try double.requests().map(\.path), [
            "\(Self.directory)?limit=3",
            "\(Self.directory)?limit=3&marker=dump-3",
            "\(Self.directory)?limit=3&marker=dump-5",
            "\(Self.directory)?limit=3&marker=dump-7",
        ])
    }

    func testListOfADirectoryNeverWrittenIsEmpty() throws {
        XCTAssertEqual(try makeStore(directory: "/alice/stor/never/written").list(), [])
        XCTAssertEqual(try double.requests().map(\.status), ["404"])
    }

    // MARK: - Damage and failures

    func testUploadDamagedInTransitIsDetectedAndDeleted() throws {
        let store = try makeStore()
        try double.control("POST", "/corrupt-next-upload")
        XCTAssertThrowsError(try store.put(name: "dump", from: BytesSource(Array("precious data".utf8)), length: nil)) { error in
            guard case let BackupStoreError.failed(_, "dump", "put", cause) = error,
                  case let MantaError.uploadMD5Mismatch(path, sent, stored, deletionError) = cause else { return XCTFail("\(error)") }
            XCTAssertEqual(path, Self.directory + "/dump")
            XCTAssertEqual(sent, Data(MD5.digest(Array("precious data".utf8))).base64EncodedString())
            XCTAssertNotEqual(stored, sent)
            XCTAssertNil(deletionError)
        }
        XCTAssertEqual(try store.list(), [])
        XCTAssertEqual(try double.requests().map(\.method).suffix(2), ["DELETE", "GET"])
    }

    func testDownloadOfADamagedObjectIsDetected() throws {
        let store = try makeStore()
        let bytes = randomBytes(count: 100_000, seed: 5)
        try store.put(name: "dump", from: BytesSource(bytes), length: bytes.count)
        var damaged = bytes
        damaged[50_000] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: storedPath("dump")))
        XCTAssertThrowsError(try store.get(name: "dump", into: BytesSink())) { error in
            guard case let BackupStoreError.failed(_, "dump", "get", cause) = error,
                  case let MantaError.downloadMD5Mismatch(path, announced, received) = cause else { return XCTFail("\(error)") }
            XCTAssertEqual(path, Self.directory + "/dump")
            XCTAssertEqual(announced, Data(MD5.digest(bytes)).base64EncodedString())
            XCTAssertEqual(received, Data(MD5.digest(damaged)).base64EncodedString())
        }
    }

    func testUploadCutHalfWayLeavesThePreviousObject() throws {
        let store = try makeStore()
        store.retry.maxAttempts = 1
        let old = randomBytes(count: 1000, seed: 6)
        try store.put(name: "dump", from: BytesSource(old), length: old.count)
        try double.control("POST", "/fail-after-bytes?bytes=\(1024 * 1024)")
        for length in [8 * 1024 * 1024, nil] {
            XCTAssertThrowsError(try store.put(name: "dump", from: PatternSource(total: 8 * 1024 * 1024), length: length)) { error in
                guard case let BackupStoreError.failed(_, "dump", "put", cause) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(cause is HTTPError, "\(cause)")
            }
            try double.control("POST", "/fail-after-bytes?bytes=\(3 * 1024 * 1024)")
        }
        let sink = BytesSink()
        try store.get(name: "dump", into: sink)
        XCTAssertEqual(sink.bytes, old)
        XCTAssertEqual(try double.requests().filter { $0.method == "PUT" }.map(\.status), ["404", "204", "204", "dropped", "dropped"])
    }

    func testSourceShorterOrLongerThanAnnouncedIsALengthMismatch() throws {
        let store = try makeStore()
        for (bytes, announced) in [(Array(repeating: UInt8(7), count: 5), 10), (Array(repeating: UInt8(7), count: 12), 10)] {
            XCTAssertThrowsError(try store.put(name: "dump", from: BytesSource(bytes), length: announced)) { error in
                guard case let BackupStoreError.lengthMismatch(_, name, expected, actual) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(name, "dump")
                XCTAssertEqual(expected, 10)
                XCTAssertNotEqual(actual, 10)
            }
        }
        XCTAssertEqual(try store.list(), [])
    }

    func testSourceFailingHalfWayFailsThePut() throws {
        let store = try makeStore()
        XCTAssertThrowsError(try store.put(name: "dump", from: FailingSource(failingAfter: 300_000), length: nil)) { error in
            guard case BackupStoreError.failed(_, "dump", "put", _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("InjectedFailure"), "\(error)")
        }
        XCTAssertEqual(try store.list(), [])
    }

    // MARK: - Manta's bad days

    private func storeWithDirectory(_ recorder: RetryRecorder, deadline: Deadline? = nil) throws -> MantaStore {
        let store = try makeStore()
        try store.put(name: "first", from: BytesSource([1]), length: 1)
        try double.clearRequests()
        store.retry = recorder.policy(deadline: deadline)
        return store
    }

    private func statuses(_ method: String) throws -> [String] {
        try double.requests().filter { $0.method == method }.map(\.status)
    }

    func testBusyAndBrokenAnswersAreRetriedWithCappedExponentialBackoff() throws {
        let recorder = RetryRecorder()
        let store = try storeWithDirectory(recorder)
        for code in ["ServiceUnavailable", "ThrottledError", "InternalError"] {
            try double.control("POST", "/faults?code=\(code)&method=PUT")
        }
        try store.put(name: "dump", from: BytesSource([1, 2, 3]), length: nil)
        XCTAssertEqual(try statuses("PUT"), ["503", "503", "500", "204"])
        // Full jitter: a draw of 0.5 of 1, 2 and 4 seconds.
        XCTAssertEqual(recorder.waits, [0.5, 1, 2])
        XCTAssertEqual(recorder.reports.count, 3)
        XCTAssertTrue(recorder.reports[0].contains("503 ServiceUnavailable"), recorder.reports[0])
        XCTAssertTrue(recorder.reports[0].hasSuffix("retry 1 of 3 in 0.5s"), recorder.reports[0])
        let sink = BytesSink()
        try store.get(name: "dump", into: sink)
        XCTAssertEqual(sink.bytes, [1, 2, 3])
    }

    func testAStoreThatStaysBusyFailsAfterFourAttempts() throws {
        let recorder = RetryRecorder()
        let store = try storeWithDirectory(recorder)
        try double.control("POST", "/faults?code=ServiceUnavailable&count=9")
        XCTAssertThrowsError(try store.put(name: "dump", from: BytesSource([1]), length: 1)) { error in
            self.assertRefused(error, status: 503, code: "ServiceUnavailable", operation: "put")
        }
        XCTAssertEqual(try statuses("PUT"), ["503", "503", "503", "503"])
    }

    func testRetryAfterIsWaitedForOnlyWithinTheDeadline() throws {
        let recorder = RetryRecorder()
        let store = try storeWithDirectory(recorder, deadline: .after(seconds: 100))
        try double.control("POST", "/faults?code=SharksExhaustedError&retry_after=30")
        try store.put(name: "dump", from: BytesSource([1]), length: 1)
        XCTAssertEqual(recorder.waits, [30])
        XCTAssertEqual(try statuses("PUT"), ["503", "204"])

        let hurried = RetryRecorder()
        store.retry = hurried.policy(deadline: .after(seconds: 10))
        try double.control("POST", "/faults?code=SharksExhaustedError&retry_after=30")
        XCTAssertThrowsError(try store.put(name: "late", from: BytesSource([1]), length: 1)) { error in
            self.assertRefused(error, status: 503, code: "SharksExhaustedError", operation: "put")
        }
        XCTAssertEqual(hurried.waits, [])
    }

    func testNotEnoughSpaceIsNotRetried() throws {
        let recorder = RetryRecorder()
        let store = try storeWithDirectory(recorder)
        try double.control("POST", "/faults?code=NotEnoughSpace")
        XCTAssertThrowsError(try store.put(name: "dump", from: BytesSource([1]), length: 1)) { error in
            self.assertRefused(error, status: 507, code: "NotEnoughSpace", operation: "put")
        }
        XCTAssertEqual(try statuses("PUT"), ["507"])
    }

    func testARestoreDownloadIsRetriedAfterA503() throws {
        let recorder = RetryRecorder()
        let store = try storeWithDirectory(recorder)
        try double.control("POST", "/faults?code=ServiceUnavailable&method=GET")
        let sink = BytesSink()
        try store.get(name: "first", into: sink)
        XCTAssertEqual(sink.bytes, [1])
        XCTAssertEqual(try statuses("GET"), ["503", "200"])
    }

    func testAnUploadCutHalfWayIsSentAgainFromItsStart() throws {
        let recorder = RetryRecorder()
        let store = try storeWithDirectory(recorder)
        let total = 8 * 1024 * 1024
        try double.control("POST", "/fail-after-bytes?bytes=\(1024 * 1024)")
        var opened = 0
        try store.put(name: "dump", from: UploadSource(length: nil) {
            opened += 1
            return PatternSource(total: total)
        })
        XCTAssertEqual(opened, 2)
        XCTAssertEqual(try statuses("PUT"), ["dropped", "204"])
        let sink = PatternCheckingSink()
        try store.get(name: "dump", into: sink)
        XCTAssertEqual(sink.offset, total)
        XCTAssertNil(sink.firstMismatch)
    }

    /// Storage nodes with 100 MB free: an upload of unknown length reserves
    /// 5 GiB unless it says how large it can be.
    func testAnUploadOfUnknownLengthSendsItsMaximum() throws {
        double.stop()
        double = try MantaDoubleProcess(scratch: scratch, arguments: try Self.doubleArguments(in: scratch) + ["--free-space-mb", "100"])
        let store = try makeStore()
        try store.put(name: "declared", from: UploadSource(length: nil, maximumLength: 20 * 1024 * 1024) { BytesSource([1, 2]) })
        XCTAssertThrowsError(try store.put(name: "undeclared", from: BytesSource([1, 2]), length: nil)) { error in
            self.assertRefused(error, status: 507, code: "NotEnoughSpace", operation: "put")
        }
        XCTAssertEqual(try store.list().map(\.name), ["declared"])
    }

    /// A subuser whose role may put objects, but not list them, backs up.
    func testASubuserThatMayPutButNotListCanUpload() throws {
        double.stop()
        double = try MantaDoubleProcess(scratch: scratch, arguments: try Self.doubleArguments(in: scratch).filter { $0 != "--role" && !Self.roles.contains($0) }
            + ["--role", "writer=putobject", "--role-tag", "/alice/stor=writer"])
        let store = try makeStore(directory: "/alice/stor", key: Self.keys.get().subuser, subuser: Self.subuser)
        try store.put(name: "dump", from: BytesSource([9]), length: 1)
        XCTAssertEqual(try double.requests().map { "\($0.method) \($0.path) \($0.status)" }, ["PUT /alice/stor/dump 204"])
        XCTAssertThrowsError(try store.list()) { error in
            self.assertRefused(error, status: 403, code: "AuthorizationFailed", operation: "list")
        }
    }

    func testInvalidNamesAreRefusedWithoutARequest() throws {
        let store = try makeStore()
        for name in ["../escape", "a/b", "", ".hidden", "sp ace"] {
            XCTAssertThrowsError(try store.put(name: name, from: BytesSource([1]), length: 1)) { error in
                guard case BackupStoreError.invalidName = error else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try store.get(name: name, into: BytesSink()))
            XCTAssertThrowsError(try store.delete(name: name))
        }
        XCTAssertEqual(try double.requests().count, 0)
    }

    func testDescriptionNamesTheStoreAndNoSecret() throws {
        let store = try makeStore()
        XCTAssertEqual(store.description, "Manta http://127.0.0.1:\(double.port)\(Self.directory)")
    }

    // MARK: - Helpers

    private func rawClient() throws -> MantaClient {
        let signer = try MantaRequestSigner(user: Self.user, privateKey: try RSAPrivateKey(parsing: Self.keys.get().account))
        return MantaClient(transport: HTTPClient(baseURL: double.baseURL), signer: signer, timeout: 30)
    }

    private func assertRefused(_ error: Error, status: Int, code: String, operation: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        guard case let BackupStoreError.failed(_, _, reportedOperation, cause) = error,
              case let MantaError.refused(_, _, reportedStatus, reportedCode, _) = cause else {
            return XCTFail("not a Manta refusal: \(error)", file: file, line: line)
        }
        XCTAssertEqual(reportedOperation, operation, file: file, line: line)
        XCTAssertEqual(reportedStatus, status, file: file, line: line)
        XCTAssertEqual(reportedCode, code, file: file, line: line)
        let text = "\(error)"
        XCTAssertFalse(text.contains("Signature keyId") || text.contains("signature=") || text.contains("PRIVATE KEY"), text)
    }

    private func resetPeakResidentMemory() throws {
        // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+).
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else {
            throw TestSetupError("cannot open /proc/self/clear_refs")
        }
        try handle.write(contentsOf: Data("5".utf8))
        try handle.close()
    }

    private func residentBytes() -> Int { statusField("VmRSS:", pid: getpid()) ?? 0 }
    private func peakResidentBytes() -> Int { statusField("VmHWM:", pid: getpid()) ?? Int.max }
}

/// A `/proc/PID/status` field in bytes.
private func statusField(_ field: String, pid: pid_t) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field) {
        let number = line.dropFirst(field.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        return number.map { $0 * 1024 }
    }
    return nil
}

/// The test's keys, made once per test run: the account's in OpenSSH format
/// (what `ssh-keygen` writes today), the subuser's as PKCS#8 and a key Manta
/// does not know as PKCS#1.
private struct MantaTestKeys: Sendable {
    let account: String
    let accountPublic: String
    let subuser: String
    let stranger: String

    static func generate() throws -> MantaTestKeys {
        let directory = try TemporaryDirectory()
        try runQuietly(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "test", "-f", directory.path + "/account"])
        try runQuietly(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", directory.path + "/subuser.pem"])
        try runQuietly(["openssl", "genrsa", "-traditional", "-out", directory.path + "/stranger.pem", "2048"])
        func text(_ name: String) throws -> String { String(decoding: try directory.read(name), as: UTF8.self) }
        let keys = MantaTestKeys(account: try text("account"), accountPublic: try text("account.pub"),
                                 subuser: try text("subuser.pem"), stranger: try text("stranger.pem"))
        guard keys.account.contains("BEGIN OPENSSH PRIVATE KEY"), keys.subuser.contains("BEGIN PRIVATE KEY"),
              keys.stranger.contains("BEGIN RSA PRIVATE KEY") else {
            throw TestSetupError("the generated keys are not in the expected formats")
        }
        return keys
    }
}

/// One request as the double recorded it.
struct MantaDoubleRequest: CustomStringConvertible {
    let method: String
    let path: String
    /// A status code, or "dropped" for a connection the double cut.
    let status: String
    let subuser: String?
    let role: String?
    let keyID: String?

    var description: String { "\(method) \(path) \(status) subuser=\(subuser ?? "-") role=\(role ?? "-")" }
}

/// The Manta double as a child process, started with a deadline and stopped
/// (SIGTERM, then SIGKILL) by the test's tearDown.
final class MantaDoubleProcess {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("doubles/manta_double.py").path

    let process = Process()
    let port: Int
    let controlPort: Int
    let root: String
    let scheme: HTTPBaseURL.Scheme

    init(scratch: TemporaryDirectory, arguments: [String], deadline: Deadline = .after(seconds: 20)) throws {
        root = scratch.path + "/manta-root"
        let ready = scratch.path + "/manta-ready.json"
        let log = scratch.path + "/manta-double.log"
        guard FileManager.default.createFile(atPath: log, contents: nil) else { throw TestSetupError("cannot create \(log)") }
        // A double started earlier in the same scratch directory left its own.
        try? FileManager.default.removeItem(atPath: ready)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--root", root, "--ready-file", ready] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        while !FileManager.default.fileExists(atPath: ready) {
            guard process.isRunning, !deadline.hasPassed else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TestSetupError("the Manta double did not start: \(output)")
            }
            usleep(20_000)
        }
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ready))) as? [String: Any]
        guard let port = document?["port"] as? Int, let controlPort = document?["control_port"] as? Int,
              document?["pid"] as? Int == Int(process.processIdentifier),
              let scheme = (document?["scheme"] as? String).flatMap(HTTPBaseURL.Scheme.init(rawValue:)) else {
            throw TestSetupError("unexpected ready file \(String(describing: document))")
        }
        self.port = port
        self.controlPort = controlPort
        self.scheme = scheme
    }

    deinit { stop() }

    var baseURL: HTTPBaseURL { HTTPBaseURL(scheme: scheme, host: "127.0.0.1", port: port) }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Deadline.after(seconds: 5)
        while process.isRunning && !deadline.hasPassed { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    @discardableResult
    func control(_ method: String, _ target: String) throws -> Any {
        let client = HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: controlPort))
        let response = try client.send(HTTPRequest(method: method, target: target), timeout: 10)
        guard response.status == 200 else { throw TestSetupError("control \(method) \(target): \(response.status) \(response.bodyText)") }
        return try JSONSerialization.jsonObject(with: Data(response.body))
    }

    func requests() throws -> [MantaDoubleRequest] {
        guard let records = try control("GET", "/requests") as? [[String: Any]] else {
            throw TestSetupError("control /requests is not a list")
        }
        return records.map { record in
            MantaDoubleRequest(method: record["method"] as? String ?? "", path: record["path"] as? String ?? "",
                               status: (record["status"]).map { "\($0)" } ?? "none",
                               subuser: record["subuser"] as? String, role: record["role"] as? String,
                               keyID: record["keyId"] as? String)
        }
    }

    func clearRequests() throws {
        try control("DELETE", "/requests")
    }

    func peakResidentBytes() throws -> Int {
        guard let peak = statusField("VmHWM:", pid: process.processIdentifier) else {
            throw TestSetupError("no VmHWM for the double")
        }
        return peak
    }
}

/// `total` bytes of a 65521-byte random pattern (a prime length, so the
/// 64 KiB pieces never line up with it), made as they are read.
private final class PatternSource: ByteSource {
    static let period = 65_521
    static let doubled: [UInt8] = {
        let pattern = randomBytes(count: period, seed: 2024)
        return pattern + pattern
    }()

    let total: Int
    private(set) var offset = 0

    init(total: Int) {
        self.total = total
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        let count = min(maxBytes, total - offset, Self.period)
        let start = offset % Self.period
        offset += count
        return Array(Self.doubled[start..<start + count])
    }
}

/// Compares what it receives with `PatternSource`'s bytes, holding none of it.
private final class PatternCheckingSink: ByteSink {
    private(set) var offset = 0
    private(set) var firstMismatch: Int?

    func write(_ bytes: [UInt8]) throws {
        var index = 0
        while index < bytes.count {
            let start = (offset + index) % PatternSource.period
            let count = min(bytes.count - index, PatternSource.period)
            // memcmp: a byte loop would take minutes over 200 MB in a debug build.
            let equal = bytes.withUnsafeBytes { received in
                PatternSource.doubled.withUnsafeBytes { expected in
                    guard let receivedBase = received.baseAddress, let expectedBase = expected.baseAddress else { return false }
                    return memcmp(receivedBase + index, expectedBase + start, count) == 0
                }
            }
            if !equal && firstMismatch == nil { firstMismatch = offset + index }
            index += count
        }
        offset += bytes.count
    }
}
