enum SentinelConfChoice: Sendable, Equatable {
    case keep(reason: String)
    case write(myID: String?, reason: String)
}

/// Sentinel rewrites its own file with what it learned (epochs, peers,
/// replicas); throwing that away costs a rediscovery, so the file is kept
/// unless it follows a master the cluster no longer has.
enum SentinelConfPolicy {
    static func choose(existing: ExistingSentinelConf?, clusterMaster: NodeAddress) -> SentinelConfChoice {
        guard let existing else {
            return .write(myID: nil, reason: "no sentinel.conf yet; writing one monitoring \(clusterMaster)")
        }
        guard let master = existing.master else {
            return .write(myID: existing.myID, reason: "sentinel.conf has no usable monitor line; rewriting it to monitor \(clusterMaster)")
        }
        if master == clusterMaster {
            return .keep(reason: "sentinel.conf already monitors the cluster's master \(master); keeping Sentinel's own state")
        }
        return .write(myID: existing.myID, reason: "sentinel.conf monitors \(master) but the cluster's master is \(clusterMaster); rewriting it, keeping this sentinel's id")
    }
}
