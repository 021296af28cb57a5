/// One Redis node as `status` shows it.
public struct NodeStatusRow: Sendable, Equatable, Codable {
    public var address: String
    /// What Redis reports: `master`, `replica`, or `no answer`.
    public var role: String
    /// What the sentinels call it: `master`, `replica`, with Sentinel's
    /// down flags, or `unknown` when no sentinel lists it.
    public var sentinel: String
    /// Its Consul services with their check states, `redis: passing`.
    public var consul: [String]
    /// A replica's link to its master: `up` or `down`.
    public var link: String?
    /// How far a replica is behind the master's offset.
    public var lagBytes: Int64?
    /// Seconds since the replica last acknowledged, as the master counts them.
    public var lagSeconds: Int64?
    public var problems: [String]
}

/// One Sentinel as `status` shows it.
public struct SentinelStatusRow: Sendable, Equatable, Codable {
    public var address: String
    public var reachable: Bool
    /// The master it names.
    public var names: String?
    public var failoverState: String?
    public var consul: [String]
    public var problems: [String]
}

public struct BackupStatus: Sendable, Equatable, Codable {
    public var name: String
    public var ageSeconds: Int64?
    public var node: String?
    public var stale: Bool
}

/// The lines about the whole cluster.
public struct ClusterSummary: Sendable, Equatable, Codable {
    /// The master the sentinels name (the most named one if they disagree).
    public var master: String?
    public var sentinelsReachable: Int
    public var sentinelsKnown: Int
    public var quorum: Int?
    public var failoverPossible: Bool
    public var failoverInProgress: Bool
    /// Who holds the bootstrap lock, nil when it is free.
    public var bootstrapLock: String?
    public var lastBackup: BackupStatus?
    /// `reachable`, or why the agent could not be read.
    public var consul: String
    public var problems: [String]
}

/// The whole of `status`: rendered as a table or as one JSON document.
public struct ClusterStatus: Sendable, Equatable, Codable {
    public var healthy: Bool
    public var cluster: ClusterSummary
    public var nodes: [NodeStatusRow]
    public var sentinels: [SentinelStatusRow]
}
