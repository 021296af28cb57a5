import Foundation

/// Settings that are valid but leave a node exposed or its backups where
/// other nodes cannot reach them. preStart logs each at WARN once per boot:
/// refusing to start would break working setups (a private network without a
/// password, one node with a local store), saying nothing hides the risk.
enum DeploymentWarnings {
    static func check(_ settings: Settings) -> [String] {
        [openWithoutPassword(settings), unsharedLocalStore(settings.backup)].compactMap { $0 }
    }

    /// Without a password the written redis.conf turns protected mode off, so
    /// any address Redis listens on beyond loopback serves everyone. The
    /// written sentinel.conf has no password of its own, with or without one.
    static func openWithoutPassword(_ settings: Settings) -> String? {
        guard settings.redis.password == nil else { return nil }
        let exposed = settings.redis.bind.filter { !isLoopback($0) }
        guard !exposed.isEmpty else { return nil }
        return "REDIS_PASSWORD is not set and REDIS_BIND has \(exposed.joined(separator: ", ")), not only loopback: "
            + "anyone who reaches port \(settings.redis.port) can read and change every key; set REDIS_PASSWORD "
            + "(the same on every node), and keep ports \(settings.redis.port) and \(settings.sentinel.port) off networks "
            + "you do not trust (Sentinel takes commands without a password either way)"
    }

    static func unsharedLocalStore(_ backup: BackupSettings) -> String? {
        guard backup.fellBackToLocal, case let .local(directory) = backup.destination else { return nil }
        return "BACKUP_STORE is auto and neither S3_BUCKET nor MANTA_USER is set: backups go to BACKUP_DIR \(directory) "
            + "on this node only, where another node that becomes master cannot restore them, and they are lost with "
            + "this container unless BACKUP_DIR is a volume; set S3_BUCKET or MANTA_USER for a store every node reaches, "
            + "or BACKUP_STORE=local if BACKUP_DIR is a volume every node shares"
    }

    /// 127.0.0.0/8 and ::1, in any spelling inet_pton accepts.
    static func isLoopback(_ address: String) -> Bool {
        var v4 = in_addr()
        if address.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard address.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
    }
}
