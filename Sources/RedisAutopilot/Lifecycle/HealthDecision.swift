/// The two Consul services a Redis node can be registered as. The names are
/// the original project's, so existing clients keep working.
enum RoleService: String, Sendable, CaseIterable, Comparable {
    case master = "redis"
    case replica = "redis-replica"

    var name: String { rawValue }

    static func < (lhs: RoleService, rhs: RoleService) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// What the local Redis answered, reduced to what the health decision needs.
enum RedisObservation: Sendable, Equatable {
    case unreachable(reason: String)
    case master(connectedReplicas: Int, loading: Bool)
    case replica(of: NodeAddress?, linkUp: Bool, loading: Bool)
}

/// How much of the cluster's Sentinel the local one still reaches. A master
/// whose Sentinel has lost a majority of all sentinels, while Consul still
/// lists those as alive, is on the minority side of a partition: the majority
/// may be promoting another master (issue 15). Dead sentinels drop out of
/// Consul's passing list and are not counted, so a master that outlives its
/// peers keeps serving; when Consul cannot say (this node's agent is cut off
/// from its servers too) every sentinel flagged down counts, and the warning
/// this brings is what the agent sends the catalog when the partition heals.
struct SentinelReach: Sendable, Equatable {
    /// Every sentinel the local one knows, itself included.
    var known: Int
    /// Those the local Sentinel flags down although Consul lists them as passing
    /// (all it flags down when Consul does not answer).
    var cutOff: Int

    init(known: Int, cutOff: Int) {
        self.known = known
        self.cutOff = cutOff
    }

    /// Enough sentinels out of reach to elect a master without this side.
    var majorityCutOff: Bool { cutOff >= known / 2 + 1 }
}

/// What health saw in one observation.
struct HealthSnapshot: Sendable, Equatable {
    var redis: RedisObservation
    /// Role services this node has on its local agent, with the address each announces.
    var registered: [RoleService: NodeAddress]
    /// The address this node should announce.
    var announce: NodeAddress
    /// A bootstrap session id was left by onStart (this node took the lock).
    var holdsBootstrapLock: Bool
    /// Consul already reports this node's `redis` instance as passing.
    var masterPassingInConsul: Bool
    /// The master the local Sentinel names, when it answered.
    var sentinelMaster: NodeAddress?
    /// Role services on the local agent under an ID this node no longer uses
    /// (its announced address changed).
    var staleServiceIDs: [String]
    /// Other nodes Consul still lists as passing `redis` and that answer as
    /// master (looked at only when this node is master).
    var otherPassingMasters: [NodeAddress]
    /// Other nodes Consul lists as passing `redis` that do not answer as
    /// master: down, or restarted as replicas, before the catalog caught up.
    var listedMastersNotAnswering: [NodeAddress]
    /// What the local Sentinel reaches (looked at only when this node is
    /// master); nil when it or Consul did not answer.
    var sentinelReach: SentinelReach?

    init(redis: RedisObservation, registered: [RoleService: NodeAddress], announce: NodeAddress,
                holdsBootstrapLock: Bool = false, masterPassingInConsul: Bool = false,
                sentinelMaster: NodeAddress? = nil, staleServiceIDs: [String] = [], otherPassingMasters: [NodeAddress] = [],
                listedMastersNotAnswering: [NodeAddress] = [], sentinelReach: SentinelReach? = nil) {
        self.redis = redis
        self.registered = registered
        self.announce = announce
        self.holdsBootstrapLock = holdsBootstrapLock
        self.masterPassingInConsul = masterPassingInConsul
        self.sentinelMaster = sentinelMaster
        self.staleServiceIDs = staleServiceIDs
        self.otherPassingMasters = otherPassingMasters
        self.listedMastersNotAnswering = listedMastersNotAnswering
        self.sentinelReach = sentinelReach
    }
}

enum HealthAction: Sendable, Equatable {
    case register(RoleService, NodeAddress)
    case deregister(RoleService)
    case deregisterStale(id: String)
    case pass(RoleService, note: String)
    /// `warning` keeps the instance out of `?passing` without failing it.
    case warn(RoleService, note: String)
    case fail(RoleService, note: String)
    case releaseBootstrapLock
    /// Keeps the session of a bootstrap lock this node holds alive until
    /// it is released.
    case renewBootstrapLock
}

struct HealthPlan: Sendable, Equatable, HookPlan {
    var actions: [HealthAction]
    /// Health exits non-zero when Redis did not answer.
    var healthy: Bool
    var reason: String

    /// Each run says at INFO what it changed; one that only passes its
    /// checks (every 5 s) says so at DEBUG.
    var level: LogLevel {
        if !healthy { return .error }
        let changes = actions.contains { action in
            switch action {
            case .pass, .warn, .renewBootstrapLock: return false
            default: return true
            }
        }
        return changes ? .info : .debug
    }
}

/// Makes the Consul registration match Redis's real role. Registration is the
/// only source of truth clients see, so a wrong role is always corrected.
enum HealthDecision {
    static func decide(_ seen: HealthSnapshot) -> HealthPlan {
        var plan = decideRegistration(seen)
        if seen.holdsBootstrapLock && !plan.actions.contains(.releaseBootstrapLock) {
            plan.actions.append(.renewBootstrapLock)
        }
        return plan
    }

    private static func decideRegistration(_ seen: HealthSnapshot) -> HealthPlan {
        let registeredList = seen.registered.keys.sorted().map(\.name).joined(separator: ", ")
        let registeredText = registeredList.isEmpty ? "nothing registered" : "registered as \(registeredList)"

        switch seen.redis {
        case let .unreachable(reason):
            let note = "redis does not answer: \(reason)"
            return HealthPlan(
                actions: seen.registered.keys.sorted().map { .fail($0, note: note) },
                healthy: false,
                reason: "\(note); \(registeredText); marking checks critical")

        case .master where seen.sentinelMaster.map({ $0 != seen.announce }) ?? false:
            // Sentinel promoted another node while this one still answers as
            // master (a restarted old master before Sentinel demotes it, or the
            // moment of a switch). Listing it as `redis` would give clients two
            // masters; it waits as a non-passing replica instead.
            let named = seen.sentinelMaster.map(\.description) ?? ""
            var actions = align(to: .replica, seen: seen)
            let note = "reports master but Sentinel names \(named); awaiting reconfiguration"
            actions.append(.warn(.replica, note: note))
            return HealthPlan(
                actions: actions, healthy: true,
                reason: "redis \(note); \(registeredText); registering as a non-passing redis-replica")

        case let .master(replicas, _) where seen.sentinelReach?.majorityCutOff ?? false:
            // Cut off from most of the cluster while Consul still hears from
            // this node: its own Sentinel goes on naming it, but the majority
            // fails it over after down-after. Passing until the heal would list
            // two masters for the whole partition; stepping out once Sentinel
            // flags the others down ends this node's listing before the
            // majority's election can list the new one.
            let reach = seen.sentinelReach.map { "\($0.cutOff) of \($0.known) sentinels" } ?? ""
            var actions = align(to: .master, seen: seen)
            let note = "master with \(replicas) connected replica(s), but its Sentinel cannot reach \(reach) "
                + "not known dead to Consul: they may be promoting another master"
            actions.append(.warn(.master, note: note))
            return HealthPlan(
                actions: actions, healthy: true,
                reason: "redis is \(note); \(registeredText); registering as redis without passing until its Sentinel reaches a majority again")

        case let .master(replicas, _) where !seen.otherPassingMasters.isEmpty:
            // Just promoted: the old master's node moves itself to
            // redis-replica within a moment (its own reconfig script or
            // health). Passing before it has would list two masters.
            let others = seen.otherPassingMasters.sorted().listed
            var actions = align(to: .master, seen: seen)
            let note = "master with \(replicas) connected replica(s), but Consul still lists \(others) as passing redis"
            actions.append(.warn(.master, note: note))
            return HealthPlan(
                actions: actions, healthy: true,
                reason: "redis is \(note); \(registeredText); registering as redis without passing until \(others) steps down")

        case let .master(replicas, loading):
            var actions = align(to: .master, seen: seen)
            let note = "master with \(replicas) connected replica(s)"
            actions.append(loading ? .warn(.master, note: "\(note), loading dataset") : .pass(.master, note: note))
            var releasing = ""
            if seen.holdsBootstrapLock && seen.masterPassingInConsul {
                actions.append(.releaseBootstrapLock)
                releasing = "; registered and passing, releasing the bootstrap lock"
            }
            var ignored = ""
            if !seen.listedMastersNotAnswering.isEmpty {
                // Consul's catalog lags a crashed node's restart by seconds;
                // stepping back for a master that is not one would leave none.
                ignored = "; Consul still lists \(seen.listedMastersNotAnswering.sorted().listed) as passing redis, "
                    + "but it does not answer as master: not waiting for it"
            }
            return HealthPlan(
                actions: actions, healthy: true,
                reason: "redis is \(note)\(loading ? " (loading)" : ""); \(registeredText); registering as redis\(releasing)\(ignored)")

        case let .replica(master, linkUp, loading):
            var actions = align(to: .replica, seen: seen)
            let masterText = master.map(\.description) ?? "unknown master"
            let note = "replica of \(masterText), link \(linkUp ? "up" : "down")"
            actions.append(linkUp && !loading ? .pass(.replica, note: note) : .warn(.replica, note: loading ? "\(note), loading dataset" : note))
            var releasing = ""
            if seen.holdsBootstrapLock {
                // This node took the lock to bootstrap as master but is a replica
                // now; holding the lock would only stall other nodes' onStart.
                actions.append(.releaseBootstrapLock)
                releasing = "; not master, releasing the bootstrap lock"
            }
            return HealthPlan(
                actions: actions, healthy: true,
                reason: "redis is \(note); \(registeredText); registering as redis-replica\(releasing)")
        }
    }

    /// Registers the wanted role when missing or announcing a stale address,
    /// and removes the other role.
    private static func align(to wanted: RoleService, seen: HealthSnapshot) -> [HealthAction] {
        var actions: [HealthAction] = []
        if seen.registered[wanted] != seen.announce {
            actions.append(.register(wanted, seen.announce))
        }
        for other in RoleService.allCases where other != wanted && seen.registered[other] != nil {
            actions.append(.deregister(other))
        }
        actions += seen.staleServiceIDs.sorted().map { .deregisterStale(id: $0) }
        return actions
    }
}
