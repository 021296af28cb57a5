/// How an operator's command reaches the cluster from the node it runs on:
/// the local Consul agent, the local Sentinel, and any Redis or Sentinel by
/// address. Clients are made per call, as Sentinel closes the connections
/// of instances it reconfigures; each is bounded by its own timeout.
struct ClusterReach: Sendable {
    let settings: Settings

    init(settings: Settings) {
        self.settings = settings
    }

    var redisTimeout: Double { settings.redis.timeout.inSeconds }
    var consulTimeout: Double { settings.consul.requestTimeout.inSeconds }

    func consul(deadline: Deadline? = nil) -> ConsulClient {
        ConsulClient(
            transport: HTTPClient(baseURL: settings.consul.httpAddress, trust: settings.consul.trust),
            token: settings.consul.token, timeout: consulTimeout, deadline: deadline)
    }

    /// This node's Sentinel: on loopback unless the servers are bound only
    /// to other addresses, then on the first of those.
    var localSentinel: NodeAddress? {
        let bind = settings.redis.bind
        let host: String
        if bind.isEmpty || bind.contains("0.0.0.0") || bind.contains("127.0.0.1") {
            host = "127.0.0.1"
        } else if bind.contains("::") || bind.contains("::1") {
            host = "::1"
        } else {
            host = bind[0]
        }
        return try? NodeAddress(host: host, port: settings.sentinel.port)
    }

    var credentials: RedisCredentials? {
        settings.redis.password.map { RedisCredentials(username: settings.redis.username, password: $0) }
    }

    /// `authenticated` false connects without REDIS_PASSWORD: for an address
    /// only an unauthenticated source (a lone sentinel) names.
    func redis(_ address: NodeAddress, timeout: Double? = nil, authenticated: Bool = true) throws -> RedisClient {
        try RedisClient.connect(to: address.endpoint, credentials: authenticated ? credentials : nil, timeout: timeout ?? redisTimeout)
    }

    /// Sentinels of this cluster take no password (their sentinel.conf sets
    /// none), so REDIS_PASSWORD is never handed to an address listed as one.
    func sentinel(_ address: NodeAddress, timeout: Double? = nil) throws -> SentinelClient {
        try SentinelClient.connect(to: address.endpoint, timeout: timeout ?? redisTimeout)
    }
}
