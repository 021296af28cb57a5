import Foundation

/// A KV entry as `GET /v1/kv/<key>` returns it, with its value decoded.
struct ConsulKVPair: Sendable, Equatable, Decodable {
    var key: String
    /// nil when the key exists without a value.
    var value: [UInt8]?
    var flags: UInt64
    /// The session holding the key's lock, if any.
    var session: String?
    var createIndex: UInt64
    var modifyIndex: UInt64
    /// How many times the lock was acquired.
    var lockIndex: UInt64

    init(
        key: String, value: [UInt8]?, flags: UInt64 = 0, session: String? = nil,
        createIndex: UInt64 = 0, modifyIndex: UInt64 = 0, lockIndex: UInt64 = 0
    ) {
        self.key = key
        self.value = value
        self.flags = flags
        self.session = session
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
        self.lockIndex = lockIndex
    }

    /// The value as UTF-8 text (invalid sequences replaced).
    var stringValue: String? {
        value.map { String(decoding: $0, as: UTF8.self) }
    }

    private enum Keys: String, CodingKey {
        case Key, Value, Flags, Session, CreateIndex, ModifyIndex, LockIndex
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        key = try container.decode(String.self, forKey: .Key)
        if let encoded = try container.decodeIfPresent(String.self, forKey: .Value) {
            guard let bytes = Data(base64Encoded: encoded) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .Value, in: container, debugDescription: "Value of \(key) is not base64")
            }
            value = Array(bytes)
        } else {
            value = nil
        }
        flags = try container.decodeIfPresent(UInt64.self, forKey: .Flags) ?? 0
        session = try container.decodeIfPresent(String.self, forKey: .Session).flatMap { $0.isEmpty ? nil : $0 }
        createIndex = try container.decodeIfPresent(UInt64.self, forKey: .CreateIndex) ?? 0
        modifyIndex = try container.decodeIfPresent(UInt64.self, forKey: .ModifyIndex) ?? 0
        lockIndex = try container.decodeIfPresent(UInt64.self, forKey: .LockIndex) ?? 0
    }
}

/// The lock part of a KV write: take or give back the key's lock for a session.
enum ConsulLockOperation: Sendable, Equatable {
    /// Succeeds when the key is free or already held by `session`.
    case acquire(session: String)
    /// Succeeds only for the holder; the key is freed without a lock-delay.
    case release(session: String)
}

extension ConsulClient {
    /// The entry at `key`, or nil when there is none.
    func getKV(_ key: String) throws -> ConsulKVPair? {
        let answer = try exchange("GET", ConsulRequestTarget("/v1/kv/", key: key), accepted: [404])
        if answer.response.status == 404 { return nil }
        guard let pairs = try decode([ConsulKVPair]?.self, from: answer), let pair = pairs.first else {
            throw decodeError(answer, "expected one entry for \(key)")
        }
        return pair
    }

    /// Every entry whose key starts with `prefix` (`?recurse`).
    func listKV(prefix: String) throws -> [ConsulKVPair] {
        var target = ConsulRequestTarget("/v1/kv/", key: prefix)
        target.flag("recurse")
        let answer = try exchange("GET", target, accepted: [404])
        if answer.response.status == 404 { return [] }
        return try decode([ConsulKVPair]?.self, from: answer) ?? []
    }

    /// Writes `value` at `key`. Returns false when Consul did not write it:
    /// the `cas` index no longer matches (0: the key exists), or the lock
    /// operation was refused.
    @discardableResult
    func putKV(
        _ key: String, value: [UInt8], cas: UInt64? = nil, flags: UInt64? = nil, lock: ConsulLockOperation? = nil
    ) throws -> Bool {
        var target = ConsulRequestTarget("/v1/kv/", key: key)
        target.value("cas", cas.map { String($0) })
        target.value("flags", flags.map { String($0) })
        switch lock {
        case .acquire(let session): target.value("acquire", session)
        case .release(let session): target.value("release", session)
        case nil: break
        }
        return try decode(Bool.self, from: exchange("PUT", target, body: value))
    }

    /// Deletes `key` (or, with `recurse`, every key under it). Returns false
    /// when the `cas` index no longer matches.
    @discardableResult
    func deleteKV(_ key: String, cas: UInt64? = nil, recurse: Bool = false) throws -> Bool {
        var target = ConsulRequestTarget("/v1/kv/", key: key)
        target.value("cas", cas.map { String($0) })
        target.flag("recurse", recurse)
        return try decode(Bool.self, from: exchange("DELETE", target))
    }

    /// Takes the lock on `key` for `session` and writes `value`. False when
    /// another session holds it or its lock-delay is still running.
    /// Consul answers an acquire naming a session it does not know with a 500
    /// "invalid session"; that is the session being gone, which callers
    /// handle by creating a new one, so it is reported as such.
    func acquireLock(key: String, session: String, value: [UInt8]) throws -> Bool {
        do {
            return try putKV(key, value: value, lock: .acquire(session: session))
        } catch ConsulError.http(_, _, 500, let body) where body.lowercased().contains("invalid session") {
            throw ConsulError.sessionNotFound(id: session)
        }
    }

    /// Gives back the lock on `key`, writing `value`. False when `session` is
    /// not the holder (also when it no longer exists: Consul does not check).
    func releaseLock(key: String, session: String, value: [UInt8]) throws -> Bool {
        try putKV(key, value: value, lock: .release(session: session))
    }
}
