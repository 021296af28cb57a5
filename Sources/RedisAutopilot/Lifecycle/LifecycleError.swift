enum LifecycleError: Error, CustomStringConvertible {
    case noConsulLeader(waitedSeconds: Int)
    case noAnnounceAddress
    case bootstrapTimedOut(waitedSeconds: Int, lastReason: String)
    case badClusterSetting(key: String, value: String, expected: String)
    case bootstrapLockLost(during: String)
    case serverNotStarted(executable: String, reason: String)
    case noSuchCheck(id: String)

    var description: String {
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
        case let .noSuchCheck(id):
            return "this node's Consul agent has no check \(id), although its registration was just made or seen"
        case let .bootstrapLockLost(during):
            return "the bootstrap lock \(ClusterNames.bootstrapLockKey) was lost \(during) (its Consul session expired "
                + "or was destroyed); another node may be taking the master role, so this node does not start as master"
        }
    }
}
