/// One Redis node as `status` shows it.
struct NodeStatusRow: Sendable, Equatable, Codable {
    var address: String
    /// What Redis reports: `master`, `replica`, or `no answer`.
    var role: String
    /// What the sentinels call it: `master`, `replica`, with Sentinel's
    /// down flags, or `unknown` when no sentinel lists it.
    var sentinel: String
    /// Its Consul services with their check states, `redis: passing`.
    var consul: [String]
    /// A replica's link to its master: `up` or `down`.
    var link: String?
    /// How far a replica is behind the master's offset.
    var lagBytes: Int64?
    /// Seconds since the replica last acknowledged, as the master counts them.
    var lagSeconds: Int64?
    var problems: [String]
}

/// One Sentinel as `status` shows it.
struct SentinelStatusRow: Sendable, Equatable, Codable {
    var address: String
    var reachable: Bool
    /// The master it names.
    var names: String?
    var failoverState: String?
    var consul: [String]
    var problems: [String]
}

struct BackupStatus: Sendable, Equatable, Codable {
    var name: String
    var ageSeconds: Int64?
    var node: String?
    var stale: Bool
}

/// The lines about the whole cluster.
struct ClusterSummary: Sendable, Equatable, Codable {
    /// The master the sentinels name (the most named one if they disagree).
    var master: String?
    var sentinelsReachable: Int
    var sentinelsKnown: Int
    var quorum: Int?
    var failoverPossible: Bool
    var failoverInProgress: Bool
    /// Who holds the bootstrap lock, nil when it is free.
    var bootstrapLock: String?
    var lastBackup: BackupStatus?
    /// `reachable`, or why the agent could not be read.
    var consul: String
    var problems: [String]
}

/// The whole of `status`: rendered as a table or as one JSON document.
struct ClusterStatus: Sendable, Equatable, Codable {
    var healthy: Bool
    var cluster: ClusterSummary
    var nodes: [NodeStatusRow]
    var sentinels: [SentinelStatusRow]
}
