/// health: keeps this node's Consul registration in step with what Redis
/// really is, and fails its check when Redis does not answer.
public struct HealthHook {
    /// Consul reaps an instance whose check stays critical this long, so a
    /// node that vanished stops being listed without an operator.
    static let deregisterCriticalAfter: Double = 60

    let node: NodeContext
    let observer: ClusterObserver
    let lock: BootstrapLock
    let hookName: String

    public init(node: NodeContext, hookName: String = "health") {
        self.node = node
        observer = ClusterObserver(node: node)
        lock = BootstrapLock(node: node)
        self.hookName = hookName
    }

    /// True when Redis answered.
    public func run() throws -> Bool {
        try runOnce().healthy
    }

    /// One observe-decide-act round; the plan says what was done.
    func runOnce() throws -> HealthPlan {
        // Consul first: when the agent is unreachable, nothing is decided.
        let services = try node.consul.agentServices()
        let seen = observe(services: services)
        let plan = HealthDecision.decide(seen)
        let changes = plan.actions.contains { action in
            switch action {
            case .pass, .warn: return false
            default: return true
            }
        }
        node.log(hookName, plan.reason, level: !plan.healthy ? .error : changes ? .info : .debug)
        for action in plan.actions {
            try act(action)
        }
        if seen.holdsBootstrapLock && !plan.actions.contains(.releaseBootstrapLock) {
            try lock.renew()
        }
        return plan
    }

    private func observe(services: [String: ConsulService]) -> HealthSnapshot {
        var registered: [RoleService: NodeAddress] = [:]
        var stale: [String] = []
        for service in services.values {
            guard let role = RoleService(rawValue: service.name) else { continue }
            if service.id == node.serviceID(role) {
                // One announcing something that is not an address reads as
                // unregistered, so the right registration replaces it.
                registered[role] = try? NodeAddress(host: service.address, port: service.port)
            } else {
                stale.append(service.id)
            }
        }
        let redis = observer.localRedis().observation
        let holdsLock = lock.heldSession != nil
        var masterPassing = false
        var sentinelMaster: NodeAddress?
        var otherMasters: [NodeAddress] = []
        var silentMasters: [NodeAddress] = []
        var sentinelReach: SentinelReach?
        if case .master = redis {
            sentinelMaster = observer.localSentinelMaster()
            sentinelReach = observer.localSentinelReach()
            let passingMasters = (try? observer.passing(RoleService.master.name)) ?? []
            masterPassing = passingMasters.contains(node.announce)
            for other in passingMasters where other != node.announce {
                if observer.answersAsMaster(other) { otherMasters.append(other) } else { silentMasters.append(other) }
            }
        }
        return HealthSnapshot(
            redis: redis, registered: registered, announce: node.announce, holdsBootstrapLock: holdsLock,
            masterPassingInConsul: masterPassing, sentinelMaster: sentinelMaster, staleServiceIDs: stale,
            otherPassingMasters: otherMasters, listedMastersNotAnswering: silentMasters, sentinelReach: sentinelReach)
    }

    private func act(_ action: HealthAction) throws {
        let consul = node.consul
        switch action {
        case let .register(role, address):
            try consul.registerService(ConsulServiceRegistration(
                id: node.serviceID(role), name: role.name, address: address.host, port: address.port,
                check: ConsulServiceTTLCheck(
                    ttl: node.settings.consul.healthTTL.inSeconds, deregisterCriticalServiceAfter: Self.deregisterCriticalAfter)))
        case let .deregister(role):
            try consul.deregisterService(id: node.serviceID(role))
        case let .deregisterStale(id):
            try consul.deregisterService(id: id)
        case let .pass(role, note):
            try consul.passCheck(id: node.checkID(role), note: note)
        case let .warn(role, note):
            try consul.warnCheck(id: node.checkID(role), note: note)
        case let .fail(role, note):
            try consul.failCheck(id: node.checkID(role), note: note)
        case .releaseBootstrapLock:
            try lock.release()
        }
    }
}
