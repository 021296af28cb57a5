import Foundation
import XCTest
@testable import RedisAutopilot

final class LocalDataTests: XCTestCase {
    func testEvidenceFromEntries() {
        XCTAssertEqual(LocalData.evidence(in: []), [])
        XCTAssertEqual(LocalData.evidence(in: [DataEntry(name: "dump.rdb", kind: .file, size: 0)]), [])
        XCTAssertEqual(LocalData.evidence(in: [DataEntry(name: "dump.rdb", kind: .file, size: 18)]), ["dump.rdb (18 bytes)"])
        XCTAssertEqual(LocalData.evidence(in: [DataEntry(name: "appendonly.aof", kind: .file, size: 0)]), ["appendonly.aof (0 bytes)"])
        XCTAssertEqual(LocalData.evidence(in: [DataEntry(name: "appendonlydir", kind: .directory)]), ["appendonlydir/"])
        // A file named like Redis 7's AOF directory is not one.
        XCTAssertEqual(LocalData.evidence(in: [DataEntry(name: "appendonlydir", kind: .file, size: 3)]), [])
        XCTAssertEqual(LocalData.evidence(in: [DataEntry(name: "sentinel.conf", kind: .file, size: 300)]), [])
    }

    func testScanOfRealDirectories() throws {
        let directory = try TemporaryDirectory()
        XCTAssertEqual(LocalData.evidence(in: LocalData.scan(directory.path)), [])
        XCTAssertEqual(LocalData.scan(directory.path + "/missing"), [])

        try directory.write("dump.rdb", [])
        try directory.write("unrelated.log", [1, 2, 3])
        XCTAssertEqual(LocalData.evidence(in: LocalData.scan(directory.path)), [], "an empty dump.rdb is no data")

        try directory.write("dump.rdb", Array("REDIS0010".utf8))
        XCTAssertEqual(LocalData.evidence(in: LocalData.scan(directory.path)), ["dump.rdb (9 bytes)"])

        let aofOnly = try TemporaryDirectory()
        try aofOnly.write("appendonly.aof", Array("*1\r\n$5\r\nMULTI\r\n".utf8))
        XCTAssertEqual(LocalData.evidence(in: LocalData.scan(aofOnly.path)), ["appendonly.aof (15 bytes)"])

        let redis7 = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: redis7.path + "/appendonlydir", withIntermediateDirectories: false)
        XCTAssertEqual(LocalData.evidence(in: LocalData.scan(redis7.path)), ["appendonlydir/"])
    }

    func testAppendOnlyFileFollowsTheLayoutTheServerReports() {
        XCTAssertEqual(LocalData.appendOnlyFile(in: "/data", directoryName: "appendonlydir", fileName: "appendonly.aof"),
                       "/data/appendonlydir/appendonly.aof.manifest")
        // Redis 6.2 has no appenddirname: CONFIG GET answers nothing, or an empty value.
        XCTAssertEqual(LocalData.appendOnlyFile(in: "/data", directoryName: nil, fileName: "appendonly.aof"), "/data/appendonly.aof")
        XCTAssertEqual(LocalData.appendOnlyFile(in: "/data", directoryName: "", fileName: "x.aof"), "/data/x.aof")
    }
}

final class RDBHeaderTests: XCTestCase {
    func testValidHeaders() throws {
        XCTAssertEqual(try RDBHeaderCheck.parse(Array("REDIS0010".utf8)), 10)
        XCTAssertEqual(try RDBHeaderCheck.parse(Array("REDIS0006rest of file".utf8)), 6)
    }

    func testMalformedHeaders() {
        for bad in ["", "REDIS", "REDIS001", "redis0010", "REDIX0010", "REDIS00a0", "REDIS-001", "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}",
                    "*1\r\n$5\r\nM"] {
            XCTAssertThrowsError(try RDBHeaderCheck.parse(Array(bad.utf8)), bad.debugDescription) { error in
                guard case BackupError.notRDB = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertThrowsError(try RDBHeaderCheck.parse([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0])) { error in
            XCTAssertTrue("\(error)".contains("does not start with REDIS"), "\(error)")
        }
    }

    func testHeaderCheckedAcrossPieces() throws {
        var check = RDBHeaderCheck()
        for byte in Array("REDIS0011".utf8) + [0xFA] { try check.feed([byte]) }
        XCTAssertEqual(try check.finish(), 11)

        var short = RDBHeaderCheck()
        try short.feed(Array("REDI".utf8))
        XCTAssertThrowsError(try short.finish())

        var wrong = RDBHeaderCheck()
        try wrong.feed(Array("REDIS".utf8))
        XCTAssertThrowsError(try wrong.feed(Array("0x10".utf8)))
    }

    func testCheckingSinkHashesWhatPasses() throws {
        let rdb = Array("REDIS0010".utf8) + randomBytes(count: 200_000, seed: 7)
        let sink = BytesSink()
        let checking = RDBCheckingSink(sink)
        var offset = 0
        while offset < rdb.count {
            let end = min(rdb.count, offset + 4097)
            try checking.write(Array(rdb[offset..<end]))
            offset = end
        }
        XCTAssertEqual(sink.bytes, rdb)
        XCTAssertEqual(checking.byteCount, rdb.count)
        XCTAssertEqual(checking.hasher.finalizeHex(), SHA256.hexDigest(rdb))
        XCTAssertEqual(try checking.header.finish(), 10)
    }

    func testCheckingSinkStopsAnythingButAnRDB() {
        let sink = BytesSink()
        let checking = RDBCheckingSink(sink)
        XCTAssertThrowsError(try checking.write(Array("<html>not found</html>".utf8)))
        XCTAssertEqual(sink.bytes, [], "nothing passes once the header is wrong")
    }

    func testCheckingSourceRefusesAShortOrWrongFile() throws {
        let good = RDBCheckingSource(BytesSource(Array("REDIS0009".utf8) + [1, 2, 3], piece: 4))
        let sink = BytesSink()
        try ByteStreams.copy(from: good, to: sink)
        XCTAssertEqual(good.byteCount, 12)
        XCTAssertEqual(try good.header.finish(), 9)

        XCTAssertThrowsError(try ByteStreams.copy(from: RDBCheckingSource(BytesSource(Array("REDIS".utf8))), to: BytesSink()))
        XCTAssertThrowsError(try ByteStreams.copy(from: RDBCheckingSource(BytesSource(Array("NOTANRDBFILE".utf8))), to: BytesSink()))
    }

    /// The fetch chain of a restore (gzip bytes -> gunzip -> RDB check) on a
    /// backup with one byte flipped: gzip's CRC-32 or inflate refuses it.
    func testFlippedByteInTheGzipIsRefused() throws {
        let rdb = Array("REDIS0010".utf8) + randomBytes(count: 100_000, seed: 3)
        let compressed = BytesSink()
        try ByteStreams.copy(from: try GzipCompressingSource(BytesSource(rdb)), to: compressed)
        for position in [compressed.bytes.count / 2, compressed.bytes.count - 5] {
            var corrupt = compressed.bytes
            corrupt[position] ^= 0x01
            let output = BytesSink()
            let gunzip = try GzipDecompressingSink(into: RDBCheckingSink(output))
            XCTAssertThrowsError(try { try gunzip.write(corrupt); try gunzip.finish() }(), "flip at \(position)")
        }
    }

    func testVerifyAgainstMetadata() throws {
        let fetched = FetchedBackup(name: "dump-20250101000000.rdb.gz", rdbSize: 10, rdbSHA256: "aa", gzipSize: 5, gzipSHA256: "bb",
                                    rdbVersion: 10, checkedAgainstMetadata: true)
        let metadata = BackupMetadata(name: fetched.name, rdbSize: 10, gzipSize: 5, rdbSHA256: "aa", gzipSHA256: "bb",
                                      savedAt: 0, node: "n", redisVersion: "7.0.15", rdbVersion: 10)
        XCTAssertNoThrow(try BackupFetcher.verify(fetched, against: metadata))
        var wrongSHA = metadata
        wrongSHA.rdbSHA256 = "ab"
        XCTAssertThrowsError(try BackupFetcher.verify(fetched, against: wrongSHA)) { error in
            XCTAssertTrue("\(error)".contains("SHA-256 of the RDB is aa, metadata says ab"), "\(error)")
        }
        var wrongSize = metadata
        wrongSize.gzipSize = 6
        XCTAssertThrowsError(try BackupFetcher.verify(fetched, against: wrongSize))
    }

    func testMetadataRoundTripAndMalformed() throws {
        let metadata = BackupMetadata(name: "dump-20250101000000.rdb.gz", rdbSize: 10, gzipSize: 5, rdbSHA256: "aa", gzipSHA256: "bb",
                                      savedAt: 1_735_689_600, node: "10.0.0.2:6379", redisVersion: "7.0.15", rdbVersion: 10)
        let text = String(decoding: metadata.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""rdb_sha256":"aa""#), text)
        XCTAssertEqual(try BackupMetadata.decode(metadata.encoded(), key: "k"), metadata)
        for bad in ["", "{}", "[]", "{\"name\": 3}", "\u{FF}"] {
            XCTAssertThrowsError(try BackupMetadata.decode(Array(bad.utf8), key: "service/redis/backups/x")) { error in
                XCTAssertTrue("\(error)".contains("service/redis/backups/x"), "\(error)")
            }
        }
    }
}

final class BackupCatalogTests: XCTestCase {
    func testMergeShowsMissingSidesAndSkipsTheLock() throws {
        let metadata = BackupMetadata(name: "dump-20250102000000.rdb.gz", rdbSize: 100, gzipSize: 40, rdbSHA256: String(repeating: "c", count: 64),
                                      gzipSHA256: "d", savedAt: 1_735_776_000, node: "10.0.0.2:6379", redisVersion: "7.0.15", rdbVersion: 10)
        let pairs = [
            ConsulKVPair(key: "service/redis/backups/lock", value: Array("10.0.0.2:6379".utf8), session: "s"),
            ConsulKVPair(key: "service/redis/backups/dump-20250102000000", value: metadata.encoded()),
            ConsulKVPair(key: "service/redis/backups/dump-20250103000000", value: Array("garbage".utf8)),
        ]
        let stored = [BackupObject(name: "dump-20250101000000.rdb.gz", size: 33), BackupObject(name: "dump-20250103000000.rdb.gz", size: 44)]
        let rows = BackupCatalog.merge(stored: stored, metadataPairs: pairs, lastBackup: "dump-20250102000000.rdb.gz")
        XCTAssertEqual(rows.map(\.name), ["dump-20250101000000.rdb.gz", "dump-20250102000000.rdb.gz", "dump-20250103000000.rdb.gz"])
        XCTAssertEqual(rows.map(\.isLast), [false, true, false])
        XCTAssertNil(rows[1].stored)
        XCTAssertNotNil(rows[2].metadataProblem)

        let table = BackupCatalog.render(rows).split(separator: "\n").map(String.init)
        XCTAssertEqual(table.count, 4)
        XCTAssertTrue(table[0].contains("NAME") && table[0].contains("IN STORE"), table[0])
        XCTAssertTrue(table[1].contains("no metadata") && table[1].contains(" 33 "), table[1])
        XCTAssertTrue(table[2].hasPrefix("*") && table[2].contains("2025-01-02 00:00:00") && table[2].contains("MISSING")
                      && table[2].contains("cccccccccccccccc"), table[2])
        XCTAssertTrue(table[3].contains("bad metadata"), table[3])
        XCTAssertTrue(BackupCatalog.render([]).contains("(no backups)"))
    }

    /// Issue 12, findings 4 and 9: a saved_at whose year overflows Int32
    /// crashed `backups list`, and metadata text went raw to the terminal.
    func testHostileMetadataNeitherCrashesTheListingNorReachesTheTerminal() throws {
        let hostile = BackupMetadata(name: "dump-\u{1B}]0;owned\u{07}\u{1B}[2J.rdb.gz", rdbSize: 1, gzipSize: 1,
                                     rdbSHA256: "\u{9B}31m", gzipSHA256: "", savedAt: 67_768_036_191_676_799,
                                     node: "10.0.0.2:6379\r\u{1B}[1A", redisVersion: "7", rdbVersion: 10)
        let pairs = [ConsulKVPair(key: "service/redis/backups/x", value: hostile.encoded())]
        let rows = BackupCatalog.merge(stored: [], metadataPairs: pairs, lastBackup: "last\u{1B}[31m")
        let table = BackupCatalog.render(rows)
        XCTAssertFalse(table.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, table)
        XCTAssertTrue(table.contains(#"dump-\u{1b}]0;owned\u{7}\u{1b}[2J.rdb.gz"#), table)
        XCTAssertTrue(table.contains("invalid time 67768036191676799"), table)
        XCTAssertEqual(BackupCatalog.utcText(Int64.min), "invalid time \(Int64.min)")
    }
}

final class GuardedStreamTests: XCTestCase {
    struct TimedOut: Error {}

    func testHeartbeatRunsAtMostOncePerPeriod() throws {
        var beats = 0
        let heartbeat = Heartbeat(every: 0.05) { beats += 1 }
        for _ in 0..<100 { try heartbeat.beat() }
        XCTAssertEqual(beats, 0, "not due right after it was made")
        usleep(60_000)
        for _ in 0..<100 { try heartbeat.beat() }
        XCTAssertEqual(beats, 1)
    }

    func testGuardedSourcePassesBytesAndFailsOnceTheDeadlinePasses() throws {
        let bytes = randomBytes(count: 300_000, seed: 1)
        let sink = BytesSink()
        try ByteStreams.copy(from: GuardedSource(BytesSource(bytes), deadline: .after(seconds: 60), heartbeat: nil) { TimedOut() }, to: sink)
        XCTAssertEqual(sink.bytes, bytes)

        let late = GuardedSource(BytesSource(bytes), deadline: .after(seconds: 0), heartbeat: nil) { TimedOut() }
        XCTAssertThrowsError(try late.read(maxBytes: 10)) { XCTAssertTrue($0 is TimedOut) }
    }

    func testAFailingHeartbeatStopsTheCopy() {
        let heartbeat = Heartbeat(every: 0) { throw BackupError.lockLost(key: BackupKeys.lock) }
        let sink = BytesSink()
        let guarded = GuardedSink(sink, deadline: .after(seconds: 60), heartbeat: heartbeat) { TimedOut() }
        XCTAssertThrowsError(try guarded.write([1, 2, 3])) { error in
            XCTAssertTrue("\(error)".contains("was lost during the backup"), "\(error)")
        }
        XCTAssertEqual(sink.bytes, [])
    }
}
