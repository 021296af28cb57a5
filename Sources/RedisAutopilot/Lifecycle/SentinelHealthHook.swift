/// healthSentinel: Sentinel must answer, and its Consul registration says so;
/// a cluster too small to fail over is said plainly, since nothing else would
/// show it before an outage.
public struct SentinelHealthHook {
    let node: NodeContext

    public init(node: NodeContext) {
        self.node = node
    }

    /// True when Sentinel answered.
    public func run() throws -> Bool {
        let services = try node.consul.agentServices().values.filter { $0.name == ClusterNames.sentinelService }
        let own = services.first { $0.id == node.sentinelServiceID }
        var failure: String?
        var master: SentinelMaster?
        do {
            let sentinel = try node.sentinel()
            defer { sentinel.close() }
            try sentinel.ping()
            master = try? sentinel.master(name: ClusterNames.masterName)
        } catch {
            failure = "\(error)"
        }
        let seen = SentinelHealthSnapshot(
            registered: own.map { NodeAddress(host: $0.address, port: $0.port) },
            staleServiceIDs: services.map(\.id).filter { $0 != node.sentinelServiceID },
            announce: node.sentinelAnnounce, failure: failure)
        let plan = SentinelHealthDecision.decide(seen)
        let changes = plan.actions.contains { if case .pass = $0 { return false } else { return true } }
        node.log("healthSentinel", plan.reason, level: !plan.healthy ? .error : changes ? .info : .debug)
        for action in plan.actions {
            try act(action)
        }
        if plan.healthy { describeCapacity(master) }
        return plan.healthy
    }

    private func act(_ action: SentinelHealthAction) throws {
        let consul = node.consul
        switch action {
        case .register(let address):
            try consul.registerService(ConsulServiceRegistration(
                id: node.sentinelServiceID, name: ClusterNames.sentinelService, address: address.host, port: address.port,
                check: ConsulServiceTTLCheck(
                    ttl: node.settings.consul.healthTTL.inSeconds, deregisterCriticalServiceAfter: HealthHook.deregisterCriticalAfter)))
        case .deregisterStale(let id):
            try consul.deregisterService(id: id)
        case .pass(let note):
            try consul.passCheck(id: "service:" + node.sentinelServiceID, note: note)
        case .fail(let note):
            try consul.failCheck(id: "service:" + node.sentinelServiceID, note: note)
        }
    }

    private func describeCapacity(_ master: SentinelMaster?) {
        guard let master else {
            node.log("healthSentinel", "sentinel answers PING but does not monitor \(ClusterNames.masterName) yet", level: .warn)
            return
        }
        let sentinels = (master.numOtherSentinels ?? 0) + 1
        let quorum = master.quorum ?? ClusterNames.defaultQuorum
        if let note = FailoverCapacity.note(sentinels: sentinels, quorum: quorum) {
            node.log("healthSentinel", "sentinel answers; \(note)", level: .warn)
        } else {
            node.log("healthSentinel", "sentinel answers; \(sentinels) sentinels, quorum \(quorum), \(master.numReplicas ?? 0) replicas known", level: .debug)
        }
    }
}
