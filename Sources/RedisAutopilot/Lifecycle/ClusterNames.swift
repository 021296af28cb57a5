/// Consul keys and names shared with the original project, so existing
/// clusters and clients keep working.
public enum ClusterNames {
    public static let masterName = "mymaster"
    public static let sentinelService = "redis-sentinel"
    public static let bootstrapLockKey = "service/redis/locks/master"
    public static let quorumKey = "service/redis-sentinel/quorum"
    public static let failoverTimeoutKey = "service/redis-sentinel/failover-timeout"
    public static let defaultQuorum = 2
    public static let defaultFailoverTimeoutMilliseconds = 30000
}
