import Foundation

/// Why an INFO reply could not be read.
enum RedisInfoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A line that is neither a `# Section` header, blank, nor `key:value`.
    case malformedLine(number: Int, text: String)

    var description: String {
        switch self {
        case let .malformedLine(number, text):
            return "INFO line \(number) is not 'key:value': '\(text)'"
        }
    }
}

/// The role INFO reports: `master`, or `slave` (every release through 7.x)
/// which a future release may call `replica`.
enum ReplicationRole: String, Sendable, Equatable {
    case master
    case replica

    init?(infoValue: String) {
        switch infoValue {
        case "master": self = .master
        case "slave", "replica": self = .replica
        default: return nil
        }
    }
}

/// One `slaveN:` line of a master's INFO replication section.
struct ConnectedReplica: Sendable, Equatable {
    var ip: String
    var port: Int
    /// `wait_bgsave`, `send_bulk`, `online`, ...
    var state: String
    var offset: Int64?
    /// Seconds since the replica last acknowledged; nil before Redis 2.8.
    var lag: Int?

    init(ip: String, port: Int, state: String, offset: Int64?, lag: Int?) {
        self.ip = ip
        self.port = port
        self.state = state
        self.offset = offset
        self.lag = lag
    }

    /// Parses `ip=127.0.0.1,port=6380,state=online,offset=42,lag=0`; nil when
    /// the address is missing or not a number.
    init?(infoValue: String) {
        var fields: [String: String] = [:]
        for pair in infoValue.split(separator: ",") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        guard let ip = fields["ip"], !ip.isEmpty,
              let port = fields["port"].flatMap({ Int($0) }), (1...65535).contains(port) else {
            return nil
        }
        self.init(ip: ip, port: port, state: fields["state"] ?? "", offset: fields["offset"].flatMap { Int64($0) },
                  lag: fields["lag"].flatMap { Int($0) })
    }
}

/// An INFO reply: every section as key/value pairs, plus typed accessors for
/// the fields the lifecycle and backups decide on. A field that is absent or
/// does not parse reads as nil; the caller decides what missing means.
struct RedisInfo: Sendable, Equatable {
    /// Section name (lowercased, "server", "replication", ...) to its fields.
    /// Lines before any header land in the section "".
    private(set) var sections: [String: [String: String]]

    init(sections: [String: [String: String]]) {
        self.sections = sections
    }

    /// Reads INFO text with CR LF or LF line ends.
    init(parsing text: String) throws {
        var sections: [String: [String: String]] = [:]
        var current = ""
        var number = 0
        // "\r\n" is one Character in Swift, so both line ends are named.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if line.hasPrefix("#") {
                current = line.dropFirst().trimmingCharacters(in: .whitespaces).lowercased()
                if sections[current] == nil { sections[current] = [:] }
                continue
            }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw RedisInfoError.malformedLine(number: number, text: String(line.prefix(60)))
            }
            let key = String(line[..<colon])
            let value = String(line[line.index(after: colon)...])
            sections[current, default: [:]][key] = value
        }
        self.sections = sections
    }

    /// The value of `key` in whichever section holds it.
    subscript(key: String) -> String? {
        for fields in sections.values {
            if let value = fields[key] { return value }
        }
        return nil
    }

    func section(_ name: String) -> [String: String]? {
        sections[name.lowercased()]
    }

    func integer(_ key: String) -> Int64? {
        self[key].flatMap { Int64($0) }
    }

    /// INFO's 0/1 flags; nil for anything else.
    func flag(_ key: String) -> Bool? {
        switch self[key] {
        case "0": return false
        case "1": return true
        default: return nil
        }
    }

    // MARK: server

    var redisVersion: RedisVersion? { self["redis_version"].flatMap(RedisVersion.init) }
    var runID: String? { self["run_id"] }

    // MARK: replication

    var role: ReplicationRole? { self["role"].flatMap(ReplicationRole.init(infoValue:)) }
    var connectedReplicaCount: Int? { self["connected_slaves"].flatMap { Int($0) } }

    /// The `slaveN` lines in N order; lines that do not parse are left out.
    var connectedReplicas: [ConnectedReplica] {
        guard let replication = section("replication") ?? sections[""] else { return [] }
        let numbered: [(Int, ConnectedReplica)] = replication.compactMap { key, value in
            guard key.hasPrefix("slave"), let index = Int(key.dropFirst(5)), index >= 0,
                  let replica = ConnectedReplica(infoValue: value) else { return nil }
            return (index, replica)
        }
        return numbered.sorted { $0.0 < $1.0 }.map(\.1)
    }

    var masterHost: String? { self["master_host"] }
    var masterPort: Int? { self["master_port"].flatMap { Int($0) } }
    /// `up` or `down` on a replica.
    var masterLinkStatus: String? { self["master_link_status"] }
    var isMasterLinkUp: Bool { masterLinkStatus == "up" }
    var masterReplicationOffset: Int64? { integer("master_repl_offset") }

    // MARK: persistence

    var loading: Bool? { flag("loading") }
    var rdbBgsaveInProgress: Bool? { flag("rdb_bgsave_in_progress") }
    /// `ok` or `err`.
    var rdbLastBgsaveStatus: String? { self["rdb_last_bgsave_status"] }
    /// Unix time of the last successful save.
    var rdbLastSaveTime: Int64? { integer("rdb_last_save_time") }
    var rdbChangesSinceLastSave: Int64? { integer("rdb_changes_since_last_save") }
    var aofEnabled: Bool? { flag("aof_enabled") }
    var aofRewriteInProgress: Bool? { flag("aof_rewrite_in_progress") }
    var aofRewriteScheduled: Bool? { flag("aof_rewrite_scheduled") }
    /// `ok` or `err`.
    var aofLastBgrewriteStatus: String? { self["aof_last_bgrewrite_status"] }

    // MARK: memory

    var usedMemory: Int64? { integer("used_memory") }
}
