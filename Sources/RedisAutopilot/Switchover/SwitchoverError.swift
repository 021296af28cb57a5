/// Why a switchover stopped after it had started changing things.
enum SwitchoverError: Error, CustomStringConvertible {
    /// The master refused CLIENT PAUSE WRITE (a server without it cannot hold writes while staying readable).
    case pauseRefused(master: NodeAddress, reason: String)
    case priorityNotSet(replica: NodeAddress, reason: String)
    case failoverRefused(sentinel: NodeAddress, reason: String)
    case noSentinel

    var description: String {
        switch self {
        case let .pauseRefused(master, reason):
            return "the master \(master) refused CLIENT PAUSE WRITE (\(reason)); without it writes cannot be held for the handover"
        case let .priorityNotSet(replica, reason):
            return "could not set replica-priority on \(replica): \(reason)"
        case let .failoverRefused(sentinel, reason):
            return "sentinel \(sentinel) refused SENTINEL FAILOVER: \(reason)"
        case .noSentinel:
            return "no sentinel answers to take the failover request"
        }
    }
}
