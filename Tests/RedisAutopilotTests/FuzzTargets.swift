import Foundation
@testable import RedisAutopilot

/// The fuzz targets: every parser of what comes from the network, the
/// environment or a peer, with the property each must keep whatever its
/// input. A broken property stops the process as a crash would, so that
/// libFuzzer reports it.
///
/// Compiled twice: into the libFuzzer driver (Tests/Fuzz, `make fuzz`) and
/// into these unit tests, which replay the seed corpora and every crash
/// found so far (FuzzRegressionTests).
enum FuzzTargets {
    static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        ("http", http), ("resp", resp), ("replies", replies), ("info", info), ("keys", keys), ("gzip", gzip),
        ("rdb", rdb), ("s3xml", s3xml), ("consul", consul), ("backups", backups), ("settings", settings), ("conf", conf),
    ]

    static func target(named name: String) -> (@Sendable ([UInt8]) -> Void)? {
        all.first { $0.name == name }?.run
    }

    // MARK: HTTP

    /// First byte: request method and the size of the pieces the rest is fed
    /// in. The pieces must make no difference: same head, same body, same outcome.
    static func http(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let method = first & 1 == 0 ? "GET" : "HEAD"
        let response = Array(data.dropFirst())
        let whole = parseHTTP(response, method: method, pieceSize: max(1, response.count))
        let pieces = parseHTTP(response, method: method, pieceSize: Int(first >> 1) + 1)
        check(whole == pieces, "fed whole \(whole), in pieces \(pieces)")
    }

    private struct HTTPOutcome: Equatable {
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        var ended = false
        var failed = false
    }

    private static func parseHTTP(_ bytes: [UInt8], method: String, pieceSize: Int) -> HTTPOutcome {
        var parser = HTTPResponseParser(requestMethod: method, maxHeaderBytes: 2048)
        var outcome = HTTPOutcome()
        func take(_ events: [HTTPResponseEvent]) {
            for event in events {
                check(!outcome.ended, "an event after the end: \(event)")
                switch event {
                case let .head(head):
                    check(outcome.head == nil, "a second head")
                    check(!(100..<200).contains(head.status), "an interim response was passed on")
                    outcome.head = head
                case let .body(piece):
                    check(outcome.head != nil, "a body before the head")
                    outcome.body += piece
                case .end:
                    check(outcome.head != nil, "an end before the head")
                    outcome.ended = true
                }
            }
        }
        do {
            var offset = 0
            while offset < bytes.count {
                take(try parser.feed(bytes[offset..<min(bytes.count, offset + pieceSize)]))
                offset += pieceSize
            }
            take(try parser.finish())
            check(parser.isComplete && outcome.ended, "finish() returned without completing the response")
        } catch {
            check(error is HTTPParseError, "not an HTTPParseError: \(error)")
            outcome.failed = true
            outcome.body = []
            outcome.ended = false
            outcome.head = nil
        }
        return outcome
    }

    // MARK: RESP

    /// Decoding in pieces gives the same values and error as decoding at
    /// once; every value encodes back to bytes that decode to it.
    static func resp(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let limits = RESPDecoder.Limits(maxBulkLength: 512, maxNestingDepth: 8, maxLineLength: 128, maxReplyBytes: 2048)
        let stream = Array(data.dropFirst())
        let whole = decodeRESP(stream, limits: limits, pieceSize: max(1, stream.count))
        let pieces = decodeRESP(stream, limits: limits, pieceSize: Int(first) + 1)
        check(whole.values == pieces.values && whole.error == pieces.error, "whole \(whole), in pieces \(pieces)")
        for value in whole.values {
            guard let encoded = try? RESPEncoder.encode(value) else { fail("a decoded value does not encode: \(value)") }
            var decoder = RESPDecoder(limits: .init(maxBulkLength: 1 << 20, maxNestingDepth: 64, maxReplyBytes: 1 << 20))
            decoder.feed(encoded)
            check((try? decoder.next()) == value, "\(value) does not survive encoding")
        }
    }

    private static func decodeRESP(_ bytes: [UInt8], limits: RESPDecoder.Limits, pieceSize: Int) -> (values: [RESPValue], error: RESPError?) {
        var decoder = RESPDecoder(limits: limits)
        var values: [RESPValue] = []
        var offset = 0
        do {
            while offset < bytes.count {
                decoder.feed(bytes[offset..<min(bytes.count, offset + pieceSize)])
                offset += pieceSize
                while let value = try decoder.next() { values.append(value) }
            }
        } catch {
            return (values, error as? RESPError)
        }
        return (values, nil)
    }

    /// Redis and Sentinel replies as the clients read them: ROLE, the
    /// SENTINEL field lists, a master's address, the reconfig script's arguments.
    static func replies(_ data: [UInt8]) {
        var decoder = RESPDecoder(limits: .init(maxBulkLength: 4096, maxReplyBytes: 8192))
        decoder.feed(data)
        while let value = try? decoder.next() {
            _ = value.description
            switch RedisRole(reply: value) {
            case let .replica(master, _, _)?: checkAddress(master)
            case let .master(_, replicas)?: replicas.forEach { checkAddress($0.address) }
            default: break
            }
            if let fields = SentinelMaster.parseFields(value) {
                let master = SentinelMaster(fields: fields)
                _ = (master.flags, master.isDown, master.isFailoverInProgress, master.quorum, master.numOtherSentinels)
                checkAddress(master.address)
                checkAddress(SentinelReplica(fields: fields).address)
            }
            for element in value.array ?? [] {
                if let fields = SentinelMaster.parseFields(element) { checkAddress(SentinelPeer(fields: fields).address) }
            }
            if let pair = value.array, pair.count == 2, let host = pair[0].text, let port = pair[1].text {
                checkAddress(try? NodeAddress(host: host, portText: port))
            }
            if let words = value.array?.compactMap(\.text) {
                if let change = SentinelSwitch(arguments: words) {
                    checkAddress(change.from)
                    checkAddress(change.to)
                }
            }
        }
    }

    /// Whatever made an address, it can go into a config file and a log as it is.
    private static func checkAddress(_ address: NodeAddress?) {
        guard let address else { return }
        check(RedisConfSyntax.isBareWord(address.host) && NodeAddress.isValidHost(address.host), "address host \(address.host.debugDescription)")
        check((1...65535).contains(address.port), "address port \(address.port)")
        check((try? NodeAddress(parsing: address.description)) == address, "\(address) does not read back")
    }

    static func info(_ data: [UInt8]) {
        guard let info = try? RedisInfo(parsing: String(decoding: data, as: UTF8.self)) else { return }
        _ = (info.role, info.redisVersion, info.runID, info.connectedReplicaCount, info.masterLinkStatus, info.masterReplicationOffset)
        _ = (info.loading, info.rdbBgsaveInProgress, info.rdbLastSaveTime, info.aofRewriteInProgress, info.usedMemory)
        for replica in info.connectedReplicas {
            checkAddress(try? NodeAddress(host: replica.ip, port: replica.port))
        }
        if case let .replica(master, _, _) = ClusterObserver.observation(of: info) { checkAddress(master) }
    }

    // MARK: files and keys

    static func keys(_ data: [UInt8]) {
        _ = try? RSAPrivateKey(parsing: String(decoding: data, as: UTF8.self))
        _ = try? PEMBlock(parsing: String(decoding: data, as: UTF8.self)).decodedBody()
        _ = try? DERKeyDecoder.pkcs1(data)
        _ = try? DERKeyDecoder.pkcs8(data)
        _ = try? OpenSSHKeyDecoder.decode(data)
    }

    /// First byte: the size of the pieces written. Decompression either
    /// fails with a typed error or gives what a second, whole pass gives.
    static func gzip(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let compressed = Array(data.dropFirst())
        let pieces = inflate(compressed, pieceSize: Int(first) + 1)
        let whole = inflate(compressed, pieceSize: max(1, compressed.count))
        check(pieces == whole, "pieces gave \(String(describing: pieces?.count)) bytes, whole \(String(describing: whole?.count))")
    }

    private static func inflate(_ bytes: [UInt8], pieceSize: Int) -> [UInt8]? {
        let output = CollectingSink()
        do {
            let sink = try GzipDecompressingSink(into: output)
            var offset = 0
            while offset < bytes.count {
                try sink.write(Array(bytes[offset..<min(bytes.count, offset + pieceSize)]))
                offset += pieceSize
            }
            try sink.finish()
            return output.bytes
        } catch {
            check(error is GzipError || error is CollectingSink.Full, "not a GzipError: \(error)")
            return nil
        }
    }

    static func rdb(_ data: [UInt8]) {
        var check = RDBHeaderCheck()
        for byte in data { try? check.feed([byte]) }
        let fed = try? check.finish()
        let parsed = try? RDBHeaderCheck.parse(data)
        self.check(fed == parsed, "fed \(String(describing: fed)), parsed \(String(describing: parsed))")
        if let parsed { self.check(data.starts(with: Array("REDIS".utf8)) && (0...9999).contains(parsed), "version \(parsed)") }
    }

    // MARK: answers of the stores and of Consul

    static func s3xml(_ data: [UInt8]) {
        if let root = try? S3XMLElement.parse(data) {
            _ = (try? S3ErrorDetails(element: root))?.description
            _ = try? S3ListPage(element: root)
            _ = try? S3IncompleteUploadsPage(element: root)
            _ = try? s3UploadID(from: root)
        }
        let text = String(decoding: data, as: UTF8.self)
        _ = try? S3Timestamp.parse(text)
        // What this client escapes into XML reads back the same (XML 1.0 cannot carry control characters).
        if !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0xD800...0xDFFF).contains($0.value) || $0.value == 0xFFFE || $0.value == 0xFFFF }) {
            let parsed = try? S3XMLElement.parse(Array("<E>\(s3XMLEscape(text))</E>".utf8))
            check(parsed?.text == text, "\(text.debugDescription) does not survive escaping")
        }
    }

    static func consul(_ data: [UInt8]) {
        let decoder = JSONDecoder()
        let json = Data(data)
        _ = try? decoder.decode([ConsulServiceEntry].self, from: json).map { ($0.instanceAddress, $0.service.port) }
        _ = try? decoder.decode([ConsulCatalogService].self, from: json).map(\.instanceAddress)
        _ = try? decoder.decode([String: ConsulService].self, from: json)
        _ = try? decoder.decode([String: ConsulHealthCheck].self, from: json)
        _ = try? decoder.decode([ConsulKVPair].self, from: json).map(\.stringValue)
        _ = try? decoder.decode([ConsulSession].self, from: json)
        if let path = try? MantaPath(parsing: "/acct/stor/backups") {
            _ = try? MantaDirectoryListing.parse(data, path: path)
        }
    }

    /// Backup metadata and times from Consul, as `backups list` and the
    /// backup decision read them: nothing traps, nothing reaches the
    /// terminal but printable text.
    static func backups(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let time = input.int64()
        let name = input.string()
        let metadataJSON = input.rest()
        let pairs = [
            ConsulKVPair(key: BackupKeys.metadataPrefix + name, value: metadataJSON),
            ConsulKVPair(key: BackupKeys.metadataPrefix + "dump-20250101000000", value: metadataJSON),
        ]
        let stored = BackupName.problem(with: name) == nil ? [BackupObject(name: name, size: Int(truncatingIfNeeded: time))] : []
        let table = BackupCatalog.render(BackupCatalog.merge(stored: stored, metadataPairs: pairs, lastBackup: name))
        check(!table.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) },
              "a control character reaches the terminal: \(table.debugDescription)")
        _ = BackupCatalog.utcText(time)
        if let backupName = try? BackupNaming.name(forSaveTime: time) {
            check(BackupNaming.isTaskBackup(backupName), "\(backupName) from \(time)")
        }
        let me = try? NodeAddress(host: "10.0.0.2", port: 6379)
        for last in [LastBackupTime.at(unixSeconds: time), .unreadable(name)] {
            guard let me else { break }
            for redis in [RedisObservation.master(connectedReplicas: 1, loading: false), .replica(of: me, linkUp: true, loading: false)] {
                _ = BackupDecision.decide(BackupSnapshot(now: input.int64(), me: me, redis: redis, passingReplicas: [me],
                                                         lastBackup: last), interval: 3600)
            }
        }
    }

    // MARK: settings and configuration files

    static let settingNames = [
        "CONSUL", "CONSUL_HTTP_ADDR", "REDIS_BIND", "REDIS_ANNOUNCE_IP", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_USERNAME",
        "REDIS_TIMEOUT", "MASTER_WAIT_TIMEOUT", "BACKUP_TTL", "MIN_REPLICAS_MAX_LAG", "S3_PART_SIZE", "AWS_ENDPOINT_URL_S3",
        "MANTA_URL", "MANTA_KEY_ID", "CONSUL_LOCAL_CONFIG", "LOG_LEVEL",
    ]

    /// First byte: which parser; the rest is the value.
    static func settings(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let text = String(decoding: data.dropFirst(), as: UTF8.self)
        switch first % 6 {
        case 0:
            if let duration = try? DurationText.parse(text) {
                check((try? DurationText.parse(DurationText.format(duration))) == duration, "\(text.debugDescription) formats as \(DurationText.format(duration))")
            }
        case 1:
            _ = try? ValueParsers.byteSize(text, in: 1...Int.max)
        case 2:
            if let url = try? HTTPBaseURL(parsing: text) {
                _ = (url.description, url.hostHeader, url.fullTarget("/v1/kv/x?y"))
            }
            for bare in [true, false] {
                if let url = try? NetworkAddressText.httpBaseURL(text, allowsBareHostPort: bare) {
                    check(NodeAddress.isValidHost(url.host), "URL host \(url.host.debugDescription)")
                }
            }
        case 3:
            checkAddress(try? NodeAddress(parsing: text))
            checkAddress(try? NodeAddress(parsing: text, defaultPort: 8301))
        default:
            let name = settingNames[Int(first / 6) % settingNames.count]
            let environment = [name: text, "BACKUP_STORE": "auto", "S3_BUCKET": "bucket", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]
            guard let settings = try? Settings.load(from: environment) else { return }
            if let password = settings.redis.password { check(RedisConfSyntax.isBareWord(password), "REDIS_PASSWORD accepted unwritable") }
            checkAddress(settings.consul.server)
        }
    }

    /// A config file (the seeds are files redis-manage wrote and Redis and
    /// Sentinel rewrote): read as Sentinel's old file, then its words fill
    /// the writers' inputs. Whatever the values, a writer refuses them or
    /// writes a file that reads back as exactly its directives, also after
    /// Sentinel writes its values back unquoted.
    static func conf(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let existing = ExistingSentinelConf.parse(text, masterName: "mymaster")
        checkAddress(existing.master)
        guard let lines = RedisConfSyntax.parse(text) else { return }
        var words = WordPool(lines.flatMap { $0 })
        let fallback = try? NodeAddress(host: "10.0.0.1", port: 6379)
        func address() -> NodeAddress? { (try? NodeAddress(host: words.next(), portText: words.next())) ?? fallback }
        guard let announce = address(), let master = address() else { return }

        let redis = RedisConfInput(
            port: words.number(), bind: [words.next(), words.next()], dataDirectory: words.next(), announce: announce,
            replicaOf: words.number() % 2 == 0 ? master : nil, password: words.next(), username: words.next(),
            minReplicasToWrite: words.number() % 3, minReplicasMaxLagSeconds: words.number())
        if let written = try? RedisConfWriter.render(redis), let directives = try? RedisConfWriter.directives(redis) {
            check(RedisConfSyntax.parse(written) == directives, "redis.conf does not read back:\n\(written)")
            check(directives.contains(["dir", redis.dataDirectory]), "dir is not the data directory")
        }

        let sentinel = SentinelConfInput(
            port: words.number(), bind: [words.next()], workingDirectory: words.next(), announce: announce, masterName: words.next(),
            master: master, quorum: words.number(), downAfterMilliseconds: words.number(), parallelSyncs: words.number(),
            failoverTimeoutMilliseconds: words.number(), password: words.next(), username: words.next(),
            knownReplicas: [address(), address()].compactMap { $0 }, knownSentinels: [KnownSentinel(address: master, id: words.next())],
            myID: words.next(), clientReconfigScript: words.next())
        if let written = try? SentinelConfWriter.render(sentinel), let directives = try? SentinelConfWriter.directives(sentinel) {
            check(RedisConfSyntax.parse(written) == directives, "sentinel.conf does not read back:\n\(written)")
            let rewritten = directives.map { $0.joined(separator: " ") }.joined(separator: "\n")
            check(RedisConfSyntax.parse(rewritten) == directives, "sentinel.conf does not survive Sentinel's unquoted rewrite:\n\(rewritten)")
            if sentinel.masterName == "mymaster" {
                check(ExistingSentinelConf.parse(written, masterName: "mymaster").master == master, "the monitor line does not read back")
            }
        }
    }

    // MARK: helpers

    private static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }

    private static func fail(_ message: String) -> Never {
        fatalError("fuzz property broken: \(message)")
    }
}

/// Reads typed values off the front of fuzz input; past its end, zeros.
struct FuzzInput {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    mutating func int64() -> Int64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(bytes.popFirst() ?? 0) }
        return Int64(bitPattern: value)
    }

    /// A length byte, then that many bytes as UTF-8.
    mutating func string() -> String {
        let count = Int(bytes.popFirst() ?? 0)
        defer { bytes = bytes.dropFirst(count) }
        return String(decoding: bytes.prefix(count), as: UTF8.self)
    }

    mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}

/// The words of a file, handed out in turn (over again once all were used).
struct WordPool {
    private let words: [String]
    private var index = 0

    init(_ words: [String]) {
        self.words = words
    }

    mutating func next() -> String {
        guard !words.isEmpty else { return "" }
        defer { index += 1 }
        return words[index % words.count]
    }

    /// The next word as a number; a word that is not one counts as its length.
    mutating func number() -> Int {
        let word = next()
        return Int(word) ?? word.utf8.count
    }
}

/// Keeps what is written, up to 64 MiB (a gzip bomb is not this test's subject).
final class CollectingSink: ByteSink {
    struct Full: Error {}
    private(set) var bytes: [UInt8] = []

    func write(_ bytes: [UInt8]) throws {
        guard self.bytes.count + bytes.count <= 64 << 20 else { throw Full() }
        self.bytes += bytes
    }
}
