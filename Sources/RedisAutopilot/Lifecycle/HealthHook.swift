/// health: keeps this node's Consul registration in step with what Redis
/// really is, and fails its check when Redis does not answer.
struct HealthHook {
    /// Consul reaps an instance whose check stays critical this long, so a
    /// node that vanished stops being listed without an operator.
    static let deregisterCriticalAfter: Duration = .seconds(60)

    let observer: ClusterObserver
    let lock: ClusterLock
    let clock: HookClock
    let healthTTL: Duration

    var cluster: ClusterPort { observer.cluster }
    var identity: NodeIdentity { observer.identity }

    /// True when Redis answered.
    func run() throws -> Bool {
        try HookDriver(clock: clock, log: observer.log).run(
            until: .after(.zero, on: clock), observe: { _ in try observe() }, decide: HealthDecision.decide,
            act: { plan in
                try act(plan)
                return .done(plan.healthy)
            }) ?? false
    }

    func observe() throws -> HealthSnapshot {
        // Consul first: when the agent is unreachable, nothing is decided.
        var registered: [RoleService: NodeAddress] = [:]
        var stale: [String] = []
        for service in try cluster.localServices() {
            guard let role = RoleService(rawValue: service.name) else { continue }
            if service.id == identity.serviceID(role) {
                // One announcing something that is not an address reads as
                // unregistered, so the right registration replaces it.
                registered[role] = service.address
            } else {
                stale.append(service.id)
            }
        }
        let redis = observer.localRedis().observation
        var masterPassing = false
        var sentinelMaster: NodeAddress?
        var otherMasters: [NodeAddress] = []
        var silentMasters: [NodeAddress] = []
        var sentinelReach: SentinelReach?
        if case .master = redis {
            sentinelMaster = observer.localSentinelMaster()
            sentinelReach = observer.localSentinelReach()
            let passingMasters = (try? cluster.passing(RoleService.master.name)) ?? []
            masterPassing = passingMasters.contains(identity.announce)
            for other in passingMasters where other != identity.announce {
                if observer.answersAsMaster(other) { otherMasters.append(other) } else { silentMasters.append(other) }
            }
        }
        return HealthSnapshot(
            redis: redis, registered: registered, announce: identity.announce, holdsBootstrapLock: lock.session != nil,
            masterPassingInConsul: masterPassing, sentinelMaster: sentinelMaster, staleServiceIDs: stale,
            otherPassingMasters: otherMasters, listedMastersNotAnswering: silentMasters, sentinelReach: sentinelReach)
    }

    func act(_ plan: HealthPlan) throws {
        for action in plan.actions {
            switch action {
            case let .register(role, address):
                try cluster.register(ServiceRegistration(
                    id: identity.serviceID(role), name: role.name, address: address, ttl: healthTTL,
                    reapAfter: Self.deregisterCriticalAfter))
            case let .deregister(role):
                try cluster.deregister(id: identity.serviceID(role))
            case let .deregisterStale(id):
                try cluster.deregister(id: id)
            case let .pass(role, note):
                try setCheck(role, .passing, note)
            case let .warn(role, note):
                try setCheck(role, .warning, note)
            case let .fail(role, note):
                try setCheck(role, .critical, note)
            case .releaseBootstrapLock:
                try lock.release()
            case .renewBootstrapLock:
                try lock.renew()
            }
        }
    }

    /// The check goes with the registration the same plan made or found.
    private func setCheck(_ role: RoleService, _ status: CheckStatus, _ note: String) throws {
        guard try cluster.setCheck(id: identity.checkID(role), to: status, note: note) else {
            throw LifecycleError.noSuchCheck(id: identity.checkID(role))
        }
    }
}
