/// The directive names a Redis release understands. Redis 5.0 renamed the
/// "slave" directives to "replica" (keeping the old ones as aliases) and 6.0
/// added ACL users (6.2 for Sentinel's auth-user); 3.2 knows only the old
/// names and has no announce directive for replicas (added in 4.0).
public struct RedisConfDialect: Sendable, Equatable {
    public var usesReplicaTerms: Bool
    public var supportsReplicaAnnounce: Bool
    public var supportsACLUsers: Bool
    public var supportsSentinelAuthUser: Bool

    public init(major: Int, minor: Int) {
        usesReplicaTerms = major >= 5
        supportsReplicaAnnounce = major >= 4
        supportsACLUsers = major >= 6
        supportsSentinelAuthUser = major > 6 || (major == 6 && minor >= 2)
    }

    public init(version: RedisVersion) {
        self.init(major: version.major, minor: version.minor)
    }

    public static let redis7 = RedisConfDialect(major: 7, minor: 0)

    var replicaOf: String { usesReplicaTerms ? "replicaof" : "slaveof" }
    var replicaAnnounceIP: String { usesReplicaTerms ? "replica-announce-ip" : "slave-announce-ip" }
    var replicaAnnouncePort: String { usesReplicaTerms ? "replica-announce-port" : "slave-announce-port" }
    var minReplicasToWrite: String { usesReplicaTerms ? "min-replicas-to-write" : "min-slaves-to-write" }
    var minReplicasMaxLag: String { usesReplicaTerms ? "min-replicas-max-lag" : "min-slaves-max-lag" }
    var knownReplica: String { usesReplicaTerms ? "known-replica" : "known-slave" }
}
