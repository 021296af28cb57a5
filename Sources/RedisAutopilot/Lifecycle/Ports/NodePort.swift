/// What one sentinel says of the monitored master.
struct SentinelAnswer: Sendable, Equatable {
    /// nil: it does not monitor the master (yet).
    var master: NodeAddress?
    var failingOver: Bool
    /// It flags the master down or has not heard from it for long
    /// (`SentinelMaster.doubtsMaster`).
    var doubtsMaster: Bool = false
}

/// What another node's Redis answers to ROLE.
enum PeerRole: Sendable, Equatable {
    case master
    case replica
    /// No answer, or an answer that is neither.
    case silent
}

/// This node's Redis and Sentinel, and the peers' as far as the hooks touch
/// them. A `sentinel` of nil is this node's own. Calls are bounded by the
/// hook's deadline; reads throw when the server does not answer.
protocol NodePort {
    /// This node's Redis INFO.
    func redisInfo() throws -> RedisInfo
    /// Whether anything accepts a connection on this node's Redis port.
    func redisListens() -> Bool
    /// CLIENT PAUSE WRITE: reads, INFO and Sentinel's own commands go on.
    func pauseWrites(for duration: Duration) throws
    func unpauseWrites()
    /// False when nothing listened, so there was nothing to shut down.
    func shutdownRedis() throws -> Bool
    func shutdownSentinel() -> Bool

    /// PING, then SENTINEL MASTER; nil when it does not monitor the master yet.
    func sentinelPing() throws -> SentinelMaster?
    func sentinelMaster(at sentinel: NodeAddress?) throws -> SentinelAnswer
    /// SENTINEL SENTINELS of this node's Sentinel: the others it knows.
    func sentinelPeers() throws -> [SentinelPeer]
    /// SENTINEL MASTER, REPLICAS and SENTINELS of another node's Sentinel.
    func sentinelView(at sentinel: NodeAddress) throws -> SentinelView
    func requestFailover(at sentinel: NodeAddress?) throws
    func resetSentinel(at sentinel: NodeAddress) throws

    /// ROLE of another node's Redis, within `limit` at most.
    func peerRole(_ address: NodeAddress, within limit: Duration) -> PeerRole
    func peerAnswersPing(_ address: NodeAddress, within limit: Duration) -> Bool
}
