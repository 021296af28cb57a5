/// Turns what `status` read into rows and problems. Pure: every rule that
/// makes the cluster degraded is here, and tested without a server.
enum StatusAssessment {
    static func assess(_ seen: StatusSnapshot) -> ClusterStatus {
        let consulUp = seen.consul.error == nil
        let answering = seen.sentinels.filter { $0.error == nil }
        let named = answering.compactMap(\.masterAddress)
        let sentinelMaster = named.mostNamed()?.address
        let readings = Dictionary(seen.redis.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        let masters = seen.redis.filter { $0.info?.role == .master }.map(\.address).sorted()
        let masterReading = sentinelMaster.flatMap { readings[$0] } ?? (masters.count == 1 ? readings[masters[0]] : nil)
        let passingRedis = Set(seen.consul.instances.filter { $0.service == "redis" && $0.status == .passing }.map(\.address))

        var problems: [String] = []
        if let error = seen.consul.error {
            problems.append("Consul unreachable: \(error)")
        }
        if answering.isEmpty {
            problems.append("no sentinel answers")
        } else if sentinelMaster == nil {
            problems.append("no sentinel names a master")
        }
        if Set(named).count > 1 {
            problems.append("sentinels disagree on the master: \(named.countedList)")
        }
        if masters.count > 1 {
            problems.append("two masters: \(masters.map(\.description).joined(separator: " and ")) answer as master")
        }
        if consulUp, let sentinelMaster, passingRedis != [sentinelMaster] {
            let listed = passingRedis.isEmpty ? "no passing redis" : "passing redis \(Array(passingRedis).sortedList)"
            problems.append("Consul and Sentinel disagree: Consul lists \(listed), Sentinel names \(sentinelMaster)")
        }

        // Sentinels: those asked, those Consul lists and those they know of.
        var sentinelAddresses = Set(seen.sentinels.map(\.address))
        sentinelAddresses.formUnion(seen.consul.instances.filter { $0.service == ClusterNames.sentinelService }.map(\.address))
        for reading in answering {
            sentinelAddresses.formUnion(reading.peers.filter { !$0.isDown }.compactMap(\.address))
        }
        let known = sentinelAddresses.count
        let majority = known / 2 + 1
        let quorum = answering.compactMap { $0.master?.quorum }.first
        let inProgress = answering.contains { $0.master?.isFailoverInProgress ?? false }
        let quorumOK = answering.contains { $0.quorum?.reachable ?? false }
        let promotable = seen.redis.filter { reading in
            guard let info = reading.info, info.role == .replica, info.isMasterLinkUp else { return false }
            return !answering.contains { $0.replicas.contains { $0.address == reading.address && ($0.isDown || $0.priority == 0) } }
        }
        var failoverBlockers: [String] = []
        if answering.count < majority {
            failoverBlockers.append("\(answering.count) of \(known) sentinels answer, a failover needs \(majority)")
        }
        if !answering.isEmpty && !quorumOK {
            failoverBlockers.append("no sentinel passes CKQUORUM")
        }
        if promotable.isEmpty {
            failoverBlockers.append("no replica with its link up that Sentinel may promote")
        }
        if known < 3 && !answering.isEmpty {
            failoverBlockers.append("only \(known) sentinel(s): run at least 3 nodes")
        }
        if !failoverBlockers.isEmpty {
            problems.append("failover not possible: " + failoverBlockers.joined(separator: "; "))
        }
        if inProgress {
            problems.append("a failover is in progress")
        }

        var backup: BackupStatus?
        if let last = seen.consul.lastBackup {
            let age = last.savedAt.map { max(0, seen.now - $0) }
            let stale = age.map { Double($0) > 2 * seen.backupTTL } ?? false
            backup = BackupStatus(name: last.name, ageSeconds: age, node: last.node, stale: stale)
            if stale, let age {
                problems.append("last backup \(last.name) is \(AgeText.format(seconds: age)) old, more than twice BACKUP_TTL")
            }
        }

        var addresses = Set(seen.redis.map(\.address))
        addresses.formUnion(seen.consul.instances.filter { $0.service != ClusterNames.sentinelService }.map(\.address))
        let nodes = addresses.sorted().map { address in
            row(for: address, reading: readings[address], seen: seen, sentinelMaster: sentinelMaster,
                masterReading: masterReading, answering: answering, masters: masters, consulUp: consulUp)
        }
        let sentinelRows = sentinelAddresses.sorted().map { address in
            sentinelRow(for: address, seen: seen, sentinelMaster: sentinelMaster, consulUp: consulUp)
        }
        let summary = ClusterSummary(
            master: sentinelMaster?.description ?? (masters.count == 1 ? masters[0].description : nil),
            sentinelsReachable: answering.count, sentinelsKnown: known, quorum: quorum,
            failoverPossible: failoverBlockers.isEmpty, failoverInProgress: inProgress,
            bootstrapLock: seen.consul.lockHolder, lastBackup: backup,
            consul: seen.consul.error.map { "unreachable: \($0)" } ?? "reachable", problems: problems)
        let healthy = problems.isEmpty && nodes.allSatisfy { $0.problems.isEmpty } && sentinelRows.allSatisfy { $0.problems.isEmpty }
        return ClusterStatus(healthy: healthy, cluster: summary, nodes: nodes, sentinels: sentinelRows)
    }

    private static func row(
        for address: NodeAddress, reading: RedisReading?, seen: StatusSnapshot, sentinelMaster: NodeAddress?,
        masterReading: RedisReading?, answering: [SentinelReading], masters: [NodeAddress], consulUp: Bool
    ) -> NodeStatusRow {
        var problems: [String] = []
        let info = reading?.info
        let role: String
        switch info?.role {
        case .master: role = "master"
        case .replica: role = "replica"
        case nil: role = "no answer"
        }
        if let reading, info == nil {
            problems.append("Redis does not answer: \(reading.error ?? "INFO has no role")")
        } else if reading == nil {
            problems.append("Redis was not asked")
        }

        var sentinelRole = "unknown"
        if address == sentinelMaster {
            // While a failover reconfigures replicas Sentinel already names the
            // promoted replica, but SENTINEL MASTER still describes the old master.
            let flags = answering.compactMap { $0.master }.filter { $0.address == address }.flatMap { $0.flags.intersection(downFlags) }
            sentinelRole = (["master"] + Set(flags).sorted()).joined(separator: " ")
        } else if let entry = answering.lazy.compactMap({ $0.replicas.first { $0.address == address } }).first {
            let flags = answering.flatMap { reading in reading.replicas.filter { $0.address == address }.flatMap { $0.flags.intersection(downFlags) } }
            sentinelRole = (["replica"] + Set(flags).sorted()).joined(separator: " ")
            if entry.priority == 0 { sentinelRole += " (priority 0)" }
        }
        if sentinelRole.contains("_down") || sentinelRole.contains("disconnected") {
            problems.append("Sentinel flags it \(sentinelRole)")
        }

        let instances = seen.consul.instances.filter { $0.address == address && $0.service != ClusterNames.sentinelService }
        let consul = instances.map { "\($0.service): \($0.status.rawValue)" }.sorted()
        if consulUp {
            if instances.isEmpty {
                problems.append("not registered in Consul")
            }
            for instance in instances where instance.status != .passing {
                problems.append("Consul's \(instance.service) check is \(instance.status.rawValue)")
            }
            let listedMaster = instances.contains { $0.service == "redis" && $0.status == .passing }
            if let sentinelMaster, address == sentinelMaster, !listedMaster {
                problems.append("Sentinel names it master but Consul does not list it as passing redis")
            } else if let sentinelMaster, address != sentinelMaster, listedMaster {
                problems.append("Consul lists it as the passing redis but Sentinel names \(sentinelMaster)")
            }
        }

        var link: String?
        var lagBytes: Int64?
        var lagSeconds: Int64?
        if let info, info.role == .replica {
            link = info.isMasterLinkUp ? "up" : "down"
            if !info.isMasterLinkUp {
                problems.append("replication link down")
            }
            let following = info.masterHost.flatMap { host in info.masterPort.flatMap { try? NodeAddress(host: host, port: $0) } }
            if let expected = sentinelMaster ?? masterReading?.address, let following, following != expected {
                problems.append("replicates \(following), not the master \(expected)")
            }
            if let masterInfo = masterReading?.info, masterInfo.role == .master,
               let entry = masterInfo.connectedReplicas.first(where: { (try? NodeAddress(host: $0.ip, port: $0.port)) == address }) {
                lagBytes = entry.offset.flatMap { offset in masterInfo.masterReplicationOffset.map { max(0, $0 - offset) } }
                lagSeconds = entry.lag.map(Int64.init)
            } else if info.isMasterLinkUp {
                lagSeconds = info.integer("master_last_io_seconds_ago")
            }
        } else if let info, info.role == .master, masters.count > 1 {
            problems.append("answers as master while \(masters.filter { $0 != address }.map(\.description).joined(separator: ", ")) also does")
        } else if let info, info.role == .master, let sentinelMaster, sentinelMaster != address {
            problems.append("answers as master but Sentinel names \(sentinelMaster)")
        }
        return NodeStatusRow(
            address: address.description, role: role, sentinel: sentinelRole, consul: consul, link: link,
            lagBytes: lagBytes, lagSeconds: lagSeconds, problems: problems)
    }

    private static func sentinelRow(for address: NodeAddress, seen: StatusSnapshot, sentinelMaster: NodeAddress?, consulUp: Bool) -> SentinelStatusRow {
        var problems: [String] = []
        let reading = seen.sentinels.first { $0.address == address }
        let reachable = reading != nil && reading?.error == nil
        if let reading, let error = reading.error {
            problems.append("does not answer: \(error)")
        } else if reading == nil {
            problems.append("was not asked")
        }
        if let named = reading?.masterAddress, let sentinelMaster, named != sentinelMaster {
            problems.append("names \(named), the others \(sentinelMaster)")
        }
        let instances = seen.consul.instances.filter { $0.address == address && $0.service == ClusterNames.sentinelService }
        if consulUp {
            if instances.isEmpty {
                problems.append("not registered in Consul")
            }
            for instance in instances where instance.status != .passing {
                problems.append("Consul's redis-sentinel check is \(instance.status.rawValue)")
            }
        }
        return SentinelStatusRow(
            address: address.description, reachable: reachable, names: reading?.masterAddress?.description,
            failoverState: reading?.master?.failoverState, consul: instances.map { "redis-sentinel: \($0.status.rawValue)" },
            problems: problems)
    }

    private static let downFlags: Set<String> = ["s_down", "o_down", "disconnected"]
}

extension Array where Element == NodeAddress {
    /// `a (2), b (1)`: each address with how many named it.
    var countedList: String {
        var counts: [NodeAddress: Int] = [:]
        for address in self { counts[address, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    }

    var sortedList: String {
        sorted().map(\.description).joined(separator: ", ")
    }
}

/// Ages for people: `45s`, `12m`, `3h05m`, `2d04h`.
enum AgeText {
    static func format(seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 { return "\(seconds / 3600)h" + twoDigits((seconds % 3600) / 60) + "m" }
        return "\(seconds / 86400)d" + twoDigits((seconds % 86400) / 3600) + "h"
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
