/// Consul keys and names shared with the original project, so existing
/// clusters and clients keep working.
enum ClusterNames {
    static let masterName = "mymaster"
    static let sentinelService = "redis-sentinel"
    static let bootstrapLockKey = "service/redis/locks/master"
    static let quorumKey = "service/redis-sentinel/quorum"
    static let failoverTimeoutKey = "service/redis-sentinel/failover-timeout"
}

/// The original's values for the cluster-wide Sentinel settings, taken
/// when their Consul keys are absent.
enum SentinelDefaults {
    static let quorum = 2
    static let failoverTimeoutMilliseconds = 30000
}
