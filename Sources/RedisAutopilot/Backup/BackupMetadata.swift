import Foundation

/// What the backup task records in Consul for each backup, so that a restore
/// can check what it downloaded and an operator can see what exists.
struct BackupMetadata: Sendable, Equatable, Codable {
    var name: String
    /// Bytes of the uncompressed RDB file.
    var rdbSize: Int
    var gzipSize: Int
    var rdbSHA256: String
    var gzipSHA256: String
    /// Unix seconds of the save (Redis's rdb_last_save_time).
    var savedAt: Int64
    /// The announced address of the node that took it.
    var node: String
    var redisVersion: String
    var rdbVersion: Int

    init(name: String, rdbSize: Int, gzipSize: Int, rdbSHA256: String, gzipSHA256: String,
                savedAt: Int64, node: String, redisVersion: String, rdbVersion: Int) {
        self.name = name
        self.rdbSize = rdbSize
        self.gzipSize = gzipSize
        self.rdbSHA256 = rdbSHA256
        self.gzipSHA256 = gzipSHA256
        self.savedAt = savedAt
        self.node = node
        self.redisVersion = redisVersion
        self.rdbVersion = rdbVersion
    }

    enum CodingKeys: String, CodingKey {
        case name
        case rdbSize = "rdb_size"
        case gzipSize = "gzip_size"
        case rdbSHA256 = "rdb_sha256"
        case gzipSHA256 = "gzip_sha256"
        case savedAt = "saved_at"
        case node
        case redisVersion = "redis_version"
        case rdbVersion = "rdb_version"
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain strings and integers cannot fail.
        return (try? Array(encoder.encode(self))) ?? []
    }

    /// Throws `BackupError.badMetadata` naming the key for anything that is
    /// not this JSON object.
    static func decode(_ bytes: [UInt8], key: String) throws -> BackupMetadata {
        do {
            return try JSONDecoder().decode(BackupMetadata.self, from: Data(bytes))
        } catch {
            throw BackupError.badMetadata(key: key, reason: "\(error)")
        }
    }
}
