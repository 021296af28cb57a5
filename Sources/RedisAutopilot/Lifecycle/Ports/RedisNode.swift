import Foundation

/// NodePort over RESP. Clients are made per call because Sentinel kills
/// client connections of the instances it reconfigures.
struct RedisNode: NodePort {
    let settings: Settings
    let identity: NodeIdentity
    /// When the hook must be done; every call is cut to fit it.
    let deadline: Deadline?

    /// What a deadline keeps back from Redis and Sentinel calls for the calls
    /// that report their outcome (failing a Consul check takes milliseconds).
    static let actReserve: Double = 1
    /// Other sentinels get a short timeout: a dead peer must not hold a hook up.
    static let peerSentinelTimeout: Double = 2

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

    var localEndpoint: SocketEndpoint { .tcp(host: localHost, port: settings.redis.port) }

    func redis() throws -> RedisClient {
        try RedisClient.connect(to: localEndpoint, credentials: credentials, timeout: redisTimeout)
    }

    /// Never with credentials: the sentinels of this cluster have no password
    /// (their sentinel.conf sets none), so REDIS_PASSWORD would only be handed
    /// to whoever Consul lists as a sentinel.
    private func sentinel(_ address: NodeAddress?) throws -> SentinelClient {
        guard let address, address != identity.sentinelAnnounce else {
            return try SentinelClient.connect(to: .tcp(host: localHost, port: settings.sentinel.port), timeout: redisTimeout)
        }
        return try SentinelClient.connect(to: address.endpoint, timeout: min(redisTimeout, Self.peerSentinelTimeout))
    }

    func redisInfo() throws -> RedisInfo {
        let client = try redis()
        defer { client.close() }
        return try client.info()
    }

    func redisListens() -> Bool {
        guard let client = try? redis() else { return false }
        client.close()
        return true
    }

    func pauseWrites(for duration: Duration) throws {
        let client = try redis()
        defer { client.close() }
        _ = try client.command(["CLIENT", "PAUSE", String(duration.inMilliseconds), "WRITE"])
    }

    func unpauseWrites() {
        guard let client = try? redis() else { return }
        defer { client.close() }
        _ = try? client.command(["CLIENT", "UNPAUSE"])
    }

    func shutdownRedis() throws -> Bool {
        guard let client = try? redis() else { return false }
        try client.shutdown(timeout: redisTimeout)
        return true
    }

    /// Sentinel closes the connection as it exits, so no answer is the answer.
    func shutdownSentinel() -> Bool {
        guard let client = try? sentinel(nil) else { return false }
        defer { client.close() }
        _ = try? client.connection.call(["SHUTDOWN"], timeout: redisTimeout)
        return true
    }

    func sentinelPing() throws -> SentinelMaster? {
        let client = try sentinel(nil)
        defer { client.close() }
        try client.ping()
        return try? client.master(name: ClusterNames.masterName)
    }

    func sentinelMaster(at address: NodeAddress?) throws -> SentinelAnswer {
        let client = try sentinel(address)
        defer { client.close() }
        let master = try client.masterAddress(name: ClusterNames.masterName)
        let state = try master == nil ? nil : client.master(name: ClusterNames.masterName)
        return SentinelAnswer(master: master, failingOver: state?.isFailoverInProgress ?? false, doubtsMaster: state?.doubtsMaster ?? false)
    }

    func sentinelPeers() throws -> [SentinelPeer] {
        let client = try sentinel(nil)
        defer { client.close() }
        return try client.sentinels(name: ClusterNames.masterName)
    }

    func sentinelView(at address: NodeAddress) throws -> SentinelView {
        let client = try sentinel(address)
        defer { client.close() }
        let name = ClusterNames.masterName
        let master = try client.master(name: name)
        var detached: Set<NodeAddress> = []
        func listed(_ entry: some SentinelFieldSet, linked: Bool) -> NodeAddress? {
            guard let address = entry.address else { return nil }
            if entry.isDown || !linked { detached.insert(address) }
            return address
        }
        let replicas = try client.replicas(name: name).compactMap { listed($0, linked: $0.masterLinkStatus == "ok") }
        let sentinels = try client.sentinels(name: name).compactMap { listed($0, linked: true) }
        return SentinelView(
            sentinel: address, failoverInProgress: master.isFailoverInProgress, replicas: replicas, sentinels: sentinels, detached: detached)
    }

    func requestFailover(at address: NodeAddress?) throws {
        let client = try sentinel(address)
        defer { client.close() }
        try client.failover(name: ClusterNames.masterName)
    }

    func resetSentinel(at address: NodeAddress) throws {
        let client = try sentinel(address)
        defer { client.close() }
        _ = try client.reset(pattern: ClusterNames.masterName)
    }

    func peerRole(_ address: NodeAddress, within limit: Duration) -> PeerRole {
        guard let client = try? RedisClient.connect(
            to: address.endpoint, credentials: credentials, timeout: min(redisTimeout, limit.inSeconds)) else { return .silent }
        defer { client.close() }
        switch try? client.role() {
        case .master: return .master
        case .replica: return .replica
        default: return .silent
        }
    }

    func peerAnswersPing(_ address: NodeAddress, within limit: Duration) -> Bool {
        guard let client = try? RedisClient.connect(
            to: address.endpoint, credentials: credentials, timeout: min(redisTimeout, limit.inSeconds)) else { return false }
        defer { client.close() }
        return (try? client.ping()) != nil
    }
}
