import Foundation

/// What onStart reads for sentinel.conf in the same observation as the role.
struct SentinelSettingsSeen: Sendable, Equatable {
    var passingReplicas: [NodeAddress]
    var quorum: String?
    var failoverTimeout: String?
}

/// What onStart writes once the role is chosen.
struct OnStartConfiguration: Sendable, Equatable {
    var master: NodeAddress
    var replicaOf: NodeAddress?
    /// Replicas a fresh Sentinel can promote at once, instead of waiting up
    /// to ten seconds for the master's INFO to list them.
    var knownReplicas: [NodeAddress]
}

/// onStart's configuration, from the snapshot the role was decided on.
enum OnStartDecision {
    static func configuration(for outcome: RoleOutcome, me: NodeAddress, seen: SentinelSettingsSeen) -> OnStartConfiguration {
        let master: NodeAddress
        let replicaOf: NodeAddress?
        switch outcome {
        case .master:
            master = me
            replicaOf = nil
        case .replica(let of):
            master = of
            replicaOf = of
        }
        var replicas = Set(seen.passingReplicas)
        if replicaOf != nil { replicas.insert(me) }
        replicas.remove(master)
        return OnStartConfiguration(master: master, replicaOf: replicaOf, knownReplicas: replicas.sorted())
    }

    /// The quorum and failover timeout a new sentinel.conf gets. A setting
    /// absent from Consul takes the original's default; a present but
    /// unusable one is an error: a silently ignored quorum is worse than a
    /// failed start.
    static func sentinelNumbers(_ seen: SentinelSettingsSeen) throws -> (quorum: Int, failoverTimeoutMilliseconds: Int) {
        (try positive(seen.quorum, key: ClusterNames.quorumKey, default: SentinelDefaults.quorum),
         try positive(seen.failoverTimeout, key: ClusterNames.failoverTimeoutKey, default: SentinelDefaults.failoverTimeoutMilliseconds))
    }

    private static func positive(_ raw: String?, key: String, default value: Int) throws -> Int {
        guard let text = raw?.trimmingCharacters(in: .whitespacesAndNewlines) else { return value }
        guard let number = Int(text), number > 0 else {
            throw LifecycleError.badClusterSetting(key: key, value: String(text.prefix(40)), expected: "a positive whole number")
        }
        return number
    }
}

/// Whether Consul has a leader yet.
struct LeaderPlan: HookPlan {
    var leader: String?
    var reason: String
    var level: LogLevel

    static func decide(_ seen: Result<String?, Error>) -> LeaderPlan {
        switch seen {
        case .success(let leader?):
            return LeaderPlan(leader: leader, reason: "Consul leader is \(leader)", level: .debug)
        case .success(nil):
            return LeaderPlan(leader: nil, reason: "Consul has no leader yet; asking again in 1s", level: .debug)
        case .failure(let error):
            return LeaderPlan(leader: nil, reason: "Consul did not say who leads (\(error)); asking again in 1s", level: .debug)
        }
    }
}
