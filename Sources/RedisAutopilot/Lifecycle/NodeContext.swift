import Foundation

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

public enum LifecycleError: Error, CustomStringConvertible {
    case noConsulLeader(waitedSeconds: Int)
    case noAnnounceAddress
    case bootstrapTimedOut(waitedSeconds: Int, lastReason: String)
    case badClusterSetting(key: String, value: String, expected: String)
    case bootstrapLockLost(during: String)
    case serverNotStarted(executable: String, reason: String)

    public var description: String {
        switch self {
        case let .noConsulLeader(waited):
            return "Consul has no leader after \(waited)s (CONSUL_LEADER_TIMEOUT); is the agent joined to a server (CONSUL)?"
        case .noAnnounceAddress:
            return "no non-loopback IPv4 address found to announce; set REDIS_ANNOUNCE_IP"
        case let .bootstrapTimedOut(waited, lastReason):
            return "no role decided after \(waited)s; last observation: \(lastReason)"
        case let .badClusterSetting(key, value, expected):
            return "Consul key \(key) holds \(value.debugDescription); expected \(expected)"
        case let .serverNotStarted(executable, reason):
            return "cannot run \(executable): \(reason)"
        case let .bootstrapLockLost(during):
            return "the bootstrap lock \(ClusterNames.bootstrapLockKey) was lost \(during) (its Consul session expired "
                + "or was destroyed); another node may be taking the master role, so this node does not start as master"
        }
    }
}

/// What every hook needs: settings, logger, and the ways to reach this
/// node's Redis, Sentinel and local Consul agent. Clients are made per call
/// because Sentinel kills client connections of the instances it reconfigures.
public final class NodeContext {
    public let settings: Settings
    public let logger: Logger
    public let consul: ConsulClient
    /// The Redis address others reach this node at.
    public let announce: NodeAddress
    /// The Sentinel address others reach this node at.
    public let sentinelAnnounce: NodeAddress
    /// When the hook must be done (ContainerPilot kills it at its job's
    /// `timeout`); nil for hooks without one.
    public let deadline: Deadline?

    /// What a deadline keeps back from Redis and Sentinel calls for the calls
    /// that report their outcome (failing a Consul check takes milliseconds).
    static let actReserve: Double = 1

    public init(settings: Settings, logger: Logger, consul: ConsulClient, announceHost: String, deadline: Deadline? = nil) {
        self.settings = settings
        self.logger = logger
        self.consul = consul
        self.deadline = deadline
        announce = NodeAddress(host: announceHost, port: settings.redis.announcePort)
        sentinelAnnounce = NodeAddress(host: announceHost, port: settings.sentinel.announcePort)
    }

    /// `within`: the hook's own budget in seconds, inside its ContainerPilot
    /// job's timeout; every Consul, Redis and Sentinel call is cut to fit it.
    public static func make(settings: Settings, logger: Logger, within budget: Double? = nil) throws -> NodeContext {
        guard let host = settings.redis.announceIP ?? InterfaceAddresses.firstNonLoopbackIPv4() else {
            throw LifecycleError.noAnnounceAddress
        }
        let deadline = budget.map { Deadline.after(seconds: $0) }
        let consul = ConsulClient(
            transport: HTTPClient(baseURL: settings.consul.httpAddress, trust: settings.consul.trust), token: settings.consul.token,
            timeout: settings.consul.requestTimeout.inSeconds, deadline: deadline)
        return NodeContext(settings: settings, logger: logger, consul: consul, announceHost: host, deadline: deadline)
    }

    /// Where this node's own servers answer: loopback unless they are bound
    /// only to specific addresses.
    var localHost: String {
        let bind = settings.redis.bind
        if bind.contains("0.0.0.0") || bind.contains("127.0.0.1") { return "127.0.0.1" }
        if bind.contains("::") || bind.contains("::1") { return "::1" }
        return bind.first ?? "127.0.0.1"
    }

    var credentials: RedisCredentials? {
        settings.redis.password.map { RedisCredentials(username: settings.redis.username, password: $0) }
    }

    /// REDIS_TIMEOUT, cut so that a server that does not answer leaves the
    /// hook time to say so before its deadline.
    var redisTimeout: Double {
        let configured = settings.redis.timeout.inSeconds
        guard let deadline else { return configured }
        return min(configured, max(0.05, deadline.remainingSeconds - Self.actReserve))
    }

    public func redis() throws -> RedisClient {
        try RedisClient.connect(to: .tcp(host: localHost, port: settings.redis.port), credentials: credentials, timeout: redisTimeout)
    }

    /// This node's Sentinel, or another node's at `address`. Other sentinels
    /// get a short timeout: a dead peer must not hold a hook up.
    public func sentinel(at address: NodeAddress? = nil) throws -> SentinelClient {
        if let address {
            return try SentinelClient.connect(
                to: .tcp(host: address.host, port: address.port), credentials: credentials, timeout: min(redisTimeout, 2))
        }
        return try SentinelClient.connect(
            to: .tcp(host: localHost, port: settings.sentinel.port), credentials: credentials, timeout: redisTimeout)
    }

    /// One ID per role and announced address: unique in the cluster even
    /// when several nodes share a host name, as in the tests.
    public func serviceID(_ role: RoleService) -> String {
        "\(role.name)-\(announce.host)-\(announce.port)"
    }

    /// This node's `redis-sentinel` registration, which healthSentinel makes
    /// at the announced Sentinel address.
    public var sentinelServiceID: String {
        "\(ClusterNames.sentinelService)-\(sentinelAnnounce.host)-\(sentinelAnnounce.port)"
    }

    /// Consul names the TTL check embedded in a registration `service:<ID>`.
    public func checkID(_ role: RoleService) -> String {
        "service:" + serviceID(role)
    }

    func log(_ hook: String, _ message: String, level: LogLevel = .info) {
        logger.log(level, message, ["hook": hook, "node": announce])
    }
}

/// Pauses between observations of a polling loop.
func pause(seconds: Double) {
    usleep(useconds_t(max(0, seconds) * 1_000_000))
}
