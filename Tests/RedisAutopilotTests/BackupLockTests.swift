import Foundation
import XCTest
@testable import RedisAutopilot

/// The Consul KV and sessions the backup task uses, in memory: sessions
/// lapse once not renewed for `sessionTTL` seconds and their locks are
/// released, as Consul does. Thread-safe: the task renews from its own thread.
final class InMemoryConsul: HTTPTransport, @unchecked Sendable {
    struct Entry {
        var value: [UInt8]
        var session: String?
        var modifyIndex: UInt64
    }

    let sessionTTL: Double
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var sessions: [String: Date] = [:]
    private var index: UInt64 = 1
    private(set) var renewals: [Date] = []

    init(sessionTTL: Double) {
        self.sessionTTL = sessionTTL
    }

    func value(_ key: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return entries[key].map { String(decoding: $0.value, as: UTF8.self) }
    }

    func put(_ key: String, _ value: String) {
        lock.lock()
        defer { lock.unlock() }
        write(key, Array(value.utf8), session: entries[key]?.session)
    }

    /// Every session ends at once (a partition, an operator): their locks are released.
    func invalidateSessions() {
        lock.lock()
        defer { lock.unlock() }
        for id in sessions.keys { invalidate(id) }
    }

    func renewals(between start: Date, and end: Date) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return renewals.filter { $0 >= start && $0 <= end }.count
    }

    func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        expireSessions()
        let parts = request.target.split(separator: "?", maxSplits: 1).map(String.init)
        let path = parts[0].removingPercentEncoding ?? parts[0]
        let query = Dictionary((parts.count > 1 ? parts[1] : "").split(separator: "&").map { pair -> (String, String) in
            let items = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (items[0], items.count > 1 ? items[1] : "")
        }, uniquingKeysWith: { $1 })
        var body: [UInt8] = []
        if case let .bytes(bytes) = request.body { body = bytes }

        if path.hasPrefix("/v1/health/service/") {
            return ConsulAnswer.json("[]", index: index)
        }
        if path == "/v1/session/create" {
            let id = UUID().uuidString.lowercased()
            sessions[id] = Date()
            return ConsulAnswer.json(#"{"ID": "\#(id)"}"#)
        }
        if path.hasPrefix("/v1/session/renew/") {
            let id = String(path.dropFirst("/v1/session/renew/".count))
            guard sessions[id] != nil else { return ConsulAnswer.text("Session id '\(id)' not found", status: 404) }
            sessions[id] = Date()
            renewals.append(Date())
            return ConsulAnswer.json(#"[{"ID": "\#(id)", "Node": "n1", "TTL": "30s"}]"#)
        }
        if path.hasPrefix("/v1/session/destroy/") {
            invalidate(String(path.dropFirst("/v1/session/destroy/".count)))
            return ConsulAnswer.json("true")
        }
        guard path.hasPrefix("/v1/kv/") else { return ConsulAnswer.text("no route \(path)", status: 404) }
        let key = String(path.dropFirst("/v1/kv/".count))
        switch request.method {
        case "GET":
            guard let entry = entries[key] else { return ConsulAnswer.text("", status: 404) }
            let session = entry.session.map { #", "Session": "\#($0)""# } ?? ""
            return ConsulAnswer.json(#"[{"Key": "\#(key)", "Value": "\#(Data(entry.value).base64EncodedString())", "ModifyIndex": \#(entry.modifyIndex)\#(session)}]"#)
        case "PUT":
            if let id = query["acquire"] {
                guard sessions[id] != nil else { return ConsulAnswer.text("invalid session \"\(id)\"", status: 500) }
                if let holder = entries[key]?.session, holder != id { return ConsulAnswer.json("false") }
                write(key, body, session: id)
            } else if let id = query["release"] {
                guard entries[key]?.session == id else { return ConsulAnswer.json("false") }
                write(key, body, session: nil)
            } else {
                write(key, body, session: entries[key]?.session)
            }
            return ConsulAnswer.json("true")
        case "DELETE":
            entries[key] = nil
            return ConsulAnswer.json("true")
        default:
            return ConsulAnswer.text("method", status: 405)
        }
    }

    func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        let response = try send(request, timeout: timeout)
        try sink.write(response.body)
        return HTTPResponse(status: response.status, reason: response.reason, headers: response.headers)
    }

    private func write(_ key: String, _ value: [UInt8], session: String?) {
        index += 1
        entries[key] = Entry(value: value, session: session, modifyIndex: index)
    }

    private func invalidate(_ id: String) {
        sessions[id] = nil
        for (key, entry) in entries where entry.session == id {
            entries[key]?.session = nil
        }
    }

    private func expireSessions() {
        let now = Date()
        for (id, renewed) in sessions where now.timeIntervalSince(renewed) > sessionTTL {
            invalidate(id)
        }
    }
}

/// A store that takes the whole backup, then does what a test needs while
/// "sending" it: S3 sends a part of up to 5 GiB in one call.
final class BlockingStore: BackupStore {
    let description = "blocking test store"
    private let whileSending: () -> Void
    private(set) var stored: [String: Int] = [:]

    init(whileSending: @escaping () -> Void) {
        self.whileSending = whileSending
    }

    func put(name: String, from upload: UploadSource) throws {
        let source = try upload.open()
        var count = 0
        while case let piece = try source.read(maxBytes: 1 << 16), !piece.isEmpty { count += piece.count }
        whileSending()
        stored[name] = count
    }

    func get(name: String, into sink: ByteSink) throws {
        throw BackupStoreError.notFound(store: description, name: name)
    }

    func list() throws -> [BackupObject] {
        stored.map { BackupObject(name: $0.key, size: $0.value) }
    }

    func delete(name: String) throws {
        stored[name] = nil
    }
}

/// Issue 12, finding 7: the backup lock could lapse inside one blocking
/// store call, and nothing checked it before `last-backup` was written.
final class BackupLockTests: XCTestCase {
    private func task(consul: InMemoryConsul, store: BackupStore) throws -> BackupTask {
        let redis = try startRedisServer()
        let runDir = NSTemporaryDirectory() + "backup-lock-\(UUID().uuidString)"
        let settings = try Settings.load(from: [
            "REDIS_PORT": String(redis.port), "REDIS_BIND": "127.0.0.1", "REDIS_ANNOUNCE_IP": "127.0.0.1",
            "REDIS_RUN_DIR": runDir, "REDIS_DATA_DIR": runDir, "BACKUP_SAVE_TIMEOUT": "30s", "LOG_LEVEL": "error",
        ])
        let identity = NodeIdentity(
            announce: try NodeAddress(host: "127.0.0.1", port: redis.port), sentinelAnnounce: try NodeAddress(host: "127.0.0.1", port: 26379))
        let client = ConsulClient(transport: consul, token: nil, timeout: 2)
        let log = HookLog(logger: Logger(settings: settings.log, secrets: []), hook: "backup", node: identity.announce)
        let cluster = ConsulCluster(consul: client, log: log)
        let node = RedisNode(settings: settings, identity: identity, deadline: nil)
        var task = BackupTask(
            settings: settings, consul: client, observer: ClusterObserver(cluster: cluster, node: node, identity: identity, log: log),
            redis: node, lock: .backup(cluster: cluster, identity: identity), store: store, forced: true)
        task.renewalPeriod = .milliseconds(100)
        return task
    }

    func testTheSessionIsRenewedWhileTheStoreBlocks() throws {
        let consul = InMemoryConsul(sessionTTL: 0.5)
        var sending: (start: Date, end: Date)?
        let store = BlockingStore {
            let start = Date()
            Thread.sleep(forTimeInterval: 1.5)
            sending = (start, Date())
        }
        guard case let .took(metadata) = try task(consul: consul, store: store).run() else { return XCTFail("no backup") }
        let window = try XCTUnwrap(sending)
        XCTAssertGreaterThanOrEqual(consul.renewals(between: window.start, and: window.end), 5)
        XCTAssertEqual(consul.value(BackupKeys.lastBackup), metadata.name)
    }

    func testALostLockRecordsNothing() throws {
        let consul = InMemoryConsul(sessionTTL: 30)
        let store = BlockingStore {
            consul.invalidateSessions()
            consul.put(BackupKeys.lock, "10.0.0.9:6379")
        }
        XCTAssertThrowsError(try task(consul: consul, store: store).run()) { error in
            guard case BackupError.lockLost? = error as? BackupError else { return XCTFail("\(error)") }
        }
        XCTAssertNil(consul.value(BackupKeys.lastBackup))
        XCTAssertNil(consul.value(BackupKeys.lastBackupTime))
    }

    func testABackupNeverOverwritesANewerRecord() throws {
        let consul = InMemoryConsul(sessionTTL: 30)
        let newer = Int64(Date().timeIntervalSince1970) + 3600
        let store = BlockingStore {
            consul.put(BackupKeys.lastBackup, "dump-newer.rdb.gz")
            consul.put(BackupKeys.lastBackupTime, String(newer))
        }
        guard case let .took(metadata) = try task(consul: consul, store: store).run() else { return XCTFail("no backup") }
        XCTAssertEqual(consul.value(BackupKeys.lastBackup), "dump-newer.rdb.gz")
        XCTAssertEqual(consul.value(BackupKeys.lastBackupTime), String(newer))
        XCTAssertNotNil(consul.value(BackupKeys.metadata(for: metadata.name)), "its metadata is recorded all the same")
    }
}
