import Foundation

/// Reads the cluster for `status`, asking every node at once: first the
/// local Consul agent and the local Sentinel (bounded by CONSUL_TIMEOUT),
/// then every Redis and Sentinel they name (bounded by REDIS_TIMEOUT), so
/// the whole read ends within the sum even when nodes are down or frozen.
struct StatusObserver: Sendable {
    let reach: ClusterReach

    init(reach: ClusterReach) {
        self.reach = reach
    }

    static let roleServices = ["redis", "redis-replica", ClusterNames.sentinelService]

    func observe() -> StatusSnapshot {
        let start = Deadline.now
        let consulDeadline = Deadline.after(seconds: reach.consulTimeout)
        let overall = Deadline.after(seconds: reach.consulTimeout + reach.redisTimeout)

        let reach = self.reach
        var first: [@Sendable () -> FirstAnswer] = Self.roleServices.map { service in
            { .instances(service, Result { try Self.instances(of: service, consul: reach.consul(deadline: consulDeadline)) }) }
        }
        first.append { .lock(Result { try Self.lockHolder(consul: reach.consul(deadline: consulDeadline)) }) }
        first.append { .backup(Result { try Self.lastBackup(consul: reach.consul(deadline: consulDeadline)) }) }
        let local = reach.localSentinel
        if let local {
            first.append { .sentinel(Self.readSentinel(local, reach: reach, timeout: reach.consulTimeout)) }
        }
        let answers = ParallelQueries.run(first, until: consulDeadline)

        var consul = ConsulReading()
        var sentinels: [SentinelReading] = []
        var consulErrors: [String] = []
        for (index, answer) in answers.enumerated() {
            switch answer {
            case .instances(_, .success(let found)): consul.instances += found
            case .instances(let service, .failure(let error)): consulErrors.append("\(service): \(error)")
            case .lock(.success(let holder)): consul.lockHolder = holder
            case .lock(.failure(let error)): consulErrors.append("bootstrap lock: \(error)")
            case .backup(.success(let backup)): consul.lastBackup = backup
            case .backup(.failure(let error)): consulErrors.append("last backup: \(error)")
            case .sentinel(let reading): sentinels.append(reading)
            case nil:
                if index < Self.roleServices.count + 2 {
                    consulErrors.append("no answer within \(Self.seconds(reach.consulTimeout)) (CONSUL_TIMEOUT)")
                } else if let local {
                    sentinels.append(SentinelReading(address: local, error: "no answer within \(Self.seconds(reach.consulTimeout))"))
                }
            }
        }
        if !consulErrors.isEmpty {
            // The first error names the cause (the agent down, a refused token); the rest repeat it.
            consul.error = consulErrors[0]
        }

        let asked = Set(sentinels.map(\.address))
        var otherSentinels = Set(consul.instances.filter { $0.service == ClusterNames.sentinelService }.map(\.address))
        for reading in sentinels {
            otherSentinels.formUnion(reading.peers.compactMap(\.address))
        }
        otherSentinels.subtract(asked)
        var redisNodes = Set(consul.instances.filter { $0.service != ClusterNames.sentinelService }.map(\.address))
        for reading in sentinels {
            if let master = reading.masterAddress { redisNodes.insert(master) }
            redisNodes.formUnion(reading.replicas.compactMap(\.address))
        }

        let sentinelList = otherSentinels.sorted()
        let redisList = redisNodes.sorted()
        let trusted = Self.trusted(consul: consul, localSentinel: sentinels.first { $0.address == local && $0.error == nil })
        let redisTimeout = max(0.05, overall.remainingSeconds)
        var second: [@Sendable () -> SecondAnswer] = sentinelList.map { address in
            { .sentinel(Self.readSentinel(address, reach: reach, timeout: redisTimeout)) }
        }
        second += redisList.map { address in
            let authenticated = trusted.contains(address)
            return { .redis(Self.readRedis(address, reach: reach, timeout: redisTimeout, authenticated: authenticated)) }
        }
        let late = "no answer within \(Self.seconds(start.elapsedSeconds + overall.remainingSeconds)) (CONSUL_TIMEOUT + REDIS_TIMEOUT)"
        var redis: [RedisReading] = []
        for (index, answer) in ParallelQueries.run(second, until: overall).enumerated() {
            switch answer {
            case .sentinel(let reading): sentinels.append(reading)
            case .redis(let reading): redis.append(reading)
            case nil:
                if index < sentinelList.count {
                    sentinels.append(SentinelReading(address: sentinelList[index], error: late))
                } else {
                    redis.append(RedisReading(address: redisList[index - sentinelList.count], error: late))
                }
            }
        }
        return StatusSnapshot(
            consul: consul, sentinels: sentinels.sorted { $0.address < $1.address }, redis: redis.sorted { $0.address < $1.address },
            now: Int64(Date().timeIntervalSince1970), backupTTL: reach.settings.backup.interval.inSeconds)
    }

    private enum FirstAnswer: Sendable {
        case instances(String, Result<[ConsulInstance], Error>)
        case lock(Result<String?, Error>)
        case backup(Result<BackupReading?, Error>)
        case sentinel(SentinelReading)
    }

    private enum SecondAnswer: Sendable {
        case sentinel(SentinelReading)
        case redis(RedisReading)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))s" : String(format: "%.1fs", value)
    }

    /// Instances whose address is not one are left out: nothing is ever
    /// connected to on the word of a registration that is malformed.
    static func instances(of service: String, consul: ConsulClient) throws -> [ConsulInstance] {
        try consul.healthService(service).entries.compactMap { entry in
            guard let address = try? NodeAddress(host: entry.instanceAddress, port: entry.service.port) else { return nil }
            let statuses = entry.checks.map(\.status)
            let worst: ConsulCheckStatus = statuses.contains(.critical) ? .critical : statuses.contains(.warning) ? .warning : .passing
            return ConsulInstance(service: service, id: entry.service.id, consulNode: entry.node.node, address: address, status: worst)
        }
    }

    static func lockHolder(consul: ConsulClient) throws -> String? {
        guard let pair = try consul.getKV(ClusterNames.bootstrapLockKey), pair.session != nil else { return nil }
        return pair.stringValue ?? "(no value)"
    }

    static func lastBackup(consul: ConsulClient) throws -> BackupReading? {
        guard let name = try consul.getKV(BackupKeys.lastBackup)?.stringValue, !name.isEmpty else { return nil }
        let metadata = try consul.getKV(BackupKeys.metadata(for: name))?.value.flatMap {
            try? BackupMetadata.decode($0, key: BackupKeys.metadata(for: name))
        }
        var savedAt = metadata?.savedAt
        if savedAt == nil {
            savedAt = try consul.getKV(BackupKeys.lastBackupTime)?.stringValue.flatMap { Int64($0) }
        }
        return BackupReading(name: name, savedAt: savedAt, node: metadata?.node)
    }

    static func readSentinel(_ address: NodeAddress, reach: ClusterReach, timeout: Double) -> SentinelReading {
        do {
            let sentinel = try reach.sentinel(address, timeout: timeout)
            defer { sentinel.close() }
            let name = ClusterNames.masterName
            guard let master = try sentinel.masterAddress(name: name) else {
                return SentinelReading(address: address, error: "does not monitor \(name)")
            }
            return SentinelReading(
                address: address, masterAddress: master, master: try sentinel.master(name: name),
                replicas: try sentinel.replicas(name: name), peers: try sentinel.sentinels(name: name),
                quorum: try sentinel.checkQuorum(name: name))
        } catch {
            return SentinelReading(address: address, error: "\(error)")
        }
    }

    /// Where REDIS_PASSWORD may go: the Redis instances Consul lists (its
    /// catalog takes an ACL token to write) and those this node's own
    /// Sentinel names (it learns replicas from the master's INFO, where only
    /// a replica that knew the password appears). Other sentinels take no
    /// password, so what only they name is read without it.
    static func trusted(consul: ConsulReading, localSentinel: SentinelReading?) -> Set<NodeAddress> {
        var trusted = Set(consul.instances.filter { $0.service != ClusterNames.sentinelService }.map(\.address))
        if let localSentinel {
            trusted.formUnion([localSentinel.masterAddress].compactMap { $0 } + localSentinel.replicas.compactMap(\.address))
        }
        return trusted
    }

    static func readRedis(_ address: NodeAddress, reach: ClusterReach, timeout: Double, authenticated: Bool) -> RedisReading {
        do {
            let client = try reach.redis(address, timeout: timeout, authenticated: authenticated)
            defer { client.close() }
            return RedisReading(address: address, info: try client.info(section: "replication"))
        } catch {
            return RedisReading(address: address, error: "\(error)")
        }
    }
}
