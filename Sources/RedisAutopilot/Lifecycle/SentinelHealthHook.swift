/// healthSentinel: Sentinel must answer, and its Consul registration says so;
/// a cluster too small to fail over is said plainly, since nothing else would
/// show it before an outage.
struct SentinelHealthHook {
    let cluster: ClusterPort
    let node: NodePort
    let identity: NodeIdentity
    let log: HookLog
    let clock: HookClock
    let healthTTL: Duration

    /// True when Sentinel answered.
    func run() throws -> Bool {
        var master: SentinelMaster?
        return try HookDriver(clock: clock, log: log).run(
            until: .after(.zero, on: clock),
            observe: { _ -> SentinelHealthSnapshot in
                let services = try cluster.localServices().filter { $0.name == ClusterNames.sentinelService }
                var failure: String?
                do {
                    master = try node.sentinelPing()
                } catch {
                    failure = "\(error)"
                }
                return SentinelHealthSnapshot(
                    registered: services.first { $0.id == identity.sentinelServiceID }?.address,
                    staleServiceIDs: services.map(\.id).filter { $0 != identity.sentinelServiceID },
                    announce: identity.sentinelAnnounce, failure: failure)
            },
            decide: SentinelHealthDecision.decide,
            act: { plan in
                try act(plan)
                if plan.healthy { describeCapacity(master) }
                return .done(plan.healthy)
            }) ?? false
    }

    private func act(_ plan: SentinelHealthPlan) throws {
        for action in plan.actions {
            switch action {
            case .register(let address):
                try cluster.register(ServiceRegistration(
                    id: identity.sentinelServiceID, name: ClusterNames.sentinelService, address: address, ttl: healthTTL,
                    reapAfter: HealthHook.deregisterCriticalAfter))
            case .deregisterStale(let id):
                try cluster.deregister(id: id)
            case .pass(let note):
                try setCheck(.passing, note)
            case .fail(let note):
                try setCheck(.critical, note)
            }
        }
    }

    private func setCheck(_ status: CheckStatus, _ note: String) throws {
        guard try cluster.setCheck(id: identity.sentinelCheckID, to: status, note: note) else {
            throw LifecycleError.noSuchCheck(id: identity.sentinelCheckID)
        }
    }

    private func describeCapacity(_ master: SentinelMaster?) {
        guard let master else {
            log("sentinel answers PING but does not monitor \(ClusterNames.masterName) yet", level: .warn)
            return
        }
        let sentinels = (master.numOtherSentinels ?? 0) + 1
        let quorum = master.quorum ?? SentinelDefaults.quorum
        if let note = FailoverCapacity.note(sentinels: sentinels, quorum: quorum) {
            log("sentinel answers; \(note)", level: .warn)
        } else {
            log("sentinel answers; \(sentinels) sentinels, quorum \(quorum), \(master.numReplicas ?? 0) replicas known", level: .debug)
        }
    }
}
