/// ClusterPort through the local Consul agent's HTTP API.
struct ConsulCluster: ClusterPort {
    let consul: ConsulClient
    let log: HookLog
    /// A (re)started agent's node is in the catalog with a passing serfHealth
    /// only once the leader has reconciled it, a second or so; until then
    /// Consul refuses sessions on it. Well within onStart's deadline.
    static let nodeHealthyWait: Double = 30

    func leader() throws -> String? {
        try consul.leader()
    }

    func passing(_ service: String) throws -> [NodeAddress] {
        try consul.healthService(service, passingOnly: true).entries.compactMap { entry in
            checked(entry.instanceAddress, entry.service.port, service: service, id: entry.service.id, on: entry.node.node)
        }
    }

    func registered(_ service: String) throws -> [NodeAddress] {
        try consul.catalogService(service).compactMap { entry in
            checked(entry.instanceAddress, entry.servicePort, service: service, id: entry.serviceID, on: entry.node)
        }
    }

    func live(_ service: String) throws -> [NodeAddress] {
        try consul.healthService(service, passingOnly: false).entries
            .filter { entry in !entry.checks.contains { $0.status == .critical } }
            .compactMap { checked($0.instanceAddress, $0.service.port, service: service, id: $0.service.id, on: $0.node.node) }
    }

    /// Anyone who may register a service could otherwise write into config files.
    private func checked(_ host: String, _ port: Int, service: String, id: String, on consulNode: String) -> NodeAddress? {
        do {
            return try NodeAddress(host: host, port: port)
        } catch {
            let instance = "\"\(HTTPParseError.quote(id.utf8, limit: 64))\" on node \"\(HTTPParseError.quote(consulNode.utf8, limit: 64))\""
            log.refuse("Consul's \(service) instance \(instance) names an address that is not one: \(error); ignoring it")
            return nil
        }
    }

    func localServices() throws -> [LocalService] {
        try consul.agentServices().values.map { service in
            LocalService(id: service.id, name: service.name, address: try? NodeAddress(host: service.address, port: service.port))
        }
    }

    func register(_ registration: ServiceRegistration) throws {
        try consul.registerService(ConsulServiceRegistration(
            id: registration.id, name: registration.name, address: registration.address.host, port: registration.address.port,
            check: ConsulServiceTTLCheck(ttl: registration.ttl.inSeconds, deregisterCriticalServiceAfter: registration.reapAfter.inSeconds)))
    }

    func deregister(id: String) throws {
        do {
            try consul.deregisterService(id: id)
        } catch ConsulError.http(_, _, 404, _) {
            return
        }
    }

    func setCheck(id: String, to status: CheckStatus, note: String) throws -> Bool {
        do {
            switch status {
            case .passing: try consul.passCheck(id: id, note: note)
            case .warning: try consul.warnCheck(id: id, note: note)
            case .critical: try consul.failCheck(id: id, note: note)
            }
            return true
        } catch ConsulError.http(_, _, 404, _) {
            return false
        }
    }

    func setting(_ key: String) throws -> String? {
        try consul.getKV(key)?.stringValue
    }

    func createSession(name: String, ttl: Duration, lockDelay: Duration) throws -> String {
        let request = ConsulSessionRequest(name: name, ttl: ttl.inSeconds, lockDelay: lockDelay.inSeconds, behavior: .release)
        return try consul.createSession(request, waitingUpTo: Self.nodeHealthyWait) { error in
            log("Consul has not reconciled this node yet (\(error)); asking for the session \"\(name)\" again in 1s", level: .warn)
        }
    }

    func acquire(_ key: String, session: String, value: String) throws -> LockAttempt {
        do {
            return try consul.acquireLock(key: key, session: session, value: Array(value.utf8)) ? .acquired : .busy
        } catch ConsulError.sessionNotFound {
            return .sessionGone
        }
    }

    func renew(session: String) throws -> Bool {
        do {
            _ = try consul.renewSession(id: session)
            return true
        } catch ConsulError.sessionNotFound {
            return false
        }
    }

    func release(_ key: String, session: String, value: String) throws {
        do {
            _ = try consul.releaseLock(key: key, session: session, value: Array(value.utf8))
            try consul.destroySession(id: session)
        } catch ConsulError.sessionNotFound {
            // Already gone: Consul released the key when it invalidated the session.
        }
    }

    func holder(of key: String) throws -> LockHolding? {
        guard let pair = try consul.getKV(key), let session = pair.session, !session.isEmpty else { return nil }
        return LockHolding(session: session, value: pair.value.map { String(decoding: $0, as: UTF8.self) })
    }
}
