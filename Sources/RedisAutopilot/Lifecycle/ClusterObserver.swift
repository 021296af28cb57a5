/// Reads the cluster as Consul and the sentinels see it. Observation only:
/// nothing here changes anything.
struct ClusterObserver {
    let node: NodeContext

    /// Instances whose address is not one are left out (and logged): anyone
    /// who may register a service could otherwise write into config files.
    func passing(_ service: String) throws -> [NodeAddress] {
        try node.consul.healthService(service, passingOnly: true).entries.compactMap { entry in
            checked(entry.instanceAddress, entry.service.port, service: service, id: entry.service.id, on: entry.node.node)
        }
    }

    func registered(_ service: String) throws -> [NodeAddress] {
        try node.consul.catalogService(service).compactMap { entry in
            checked(entry.instanceAddress, entry.servicePort, service: service, id: entry.serviceID, on: entry.node)
        }
    }

    private func checked(_ host: String, _ port: Int, service: String, id: String, on consulNode: String) -> NodeAddress? {
        do {
            return try NodeAddress(host: host, port: port)
        } catch {
            let instance = "\"\(HTTPParseError.quote(id.utf8, limit: 64))\" on node \"\(HTTPParseError.quote(consulNode.utf8, limit: 64))\""
            node.refusals.reportAddress(from: "Consul's \(service) instance \(instance)", error, to: node.logger)
            return nil
        }
    }

    /// The master each reachable sentinel of the cluster names; a sentinel
    /// that does not answer is left out (and said so at DEBUG).
    func sentinelAnswers(excludingOwn: Bool) throws -> [NodeAddress] {
        var answers: [NodeAddress] = []
        for address in try passing(ClusterNames.sentinelService) where !(excludingOwn && address == node.sentinelAnnounce) {
            do {
                let sentinel = try node.sentinel(at: address)
                defer { sentinel.close() }
                if let master = try sentinel.masterAddress(name: ClusterNames.masterName) { answers.append(master) }
            } catch let RedisError.invalidAddress(_, command, error) {
                node.refusals.reportAddress(from: "sentinel \(address) (\(command))", error, to: node.logger)
            } catch let error as RedisError where error.isProtocolViolation {
                // Not a peer that went away: one that sends what no sentinel does.
                node.refusals.report("sentinel \(address) answered with what no sentinel sends: \(error); ignoring it", to: node.logger)
            } catch {
                node.logger.debug("sentinel did not answer", ["sentinel": address, "error": "\(error)"])
            }
        }
        return answers
    }

    /// Redis's role, reduced for the decisions; any failure to answer is
    /// `.unreachable` with the reason.
    func localRedis() -> (observation: RedisObservation, info: RedisInfo?) {
        do {
            let client = try node.redis()
            defer { client.close() }
            let info = try client.info()
            return (Self.observation(of: info), info)
        } catch {
            return (.unreachable(reason: "\(error)"), nil)
        }
    }

    static func observation(of info: RedisInfo) -> RedisObservation {
        let loading = info.loading ?? false
        switch info.role {
        case .replica:
            // A master_host that is not an address reads as an unknown master.
            let master = info.masterHost.flatMap { host in info.masterPort.flatMap { try? NodeAddress(host: host, port: $0) } }
            return .replica(of: master, linkUp: info.isMasterLinkUp, loading: loading)
        case .master:
            return .master(connectedReplicas: info.connectedReplicaCount ?? 0, loading: loading)
        case nil:
            return .unreachable(reason: "INFO has no role line")
        }
    }

    /// The local Sentinel's master, nil when it does not answer.
    func localSentinelMaster() -> NodeAddress? {
        do {
            let sentinel = try node.sentinel()
            defer { sentinel.close() }
            return try sentinel.masterAddress(name: ClusterNames.masterName)
        } catch {
            node.logger.debug("local sentinel did not answer", ["error": "\(error)"])
            return nil
        }
    }
}
