/// preStop: hands the master role over, leaves Consul, stops this node's
/// Redis and Sentinel, and makes the other sentinels forget them.
public struct PreStopHook {
    /// Bound on making the other sentinels forget this node, beyond the
    /// handover's FAILOVER_WAIT_TIMEOUT; resets may also use what the handover
    /// left unused. A reset sentinel relearns the replicas only from the
    /// master's next INFO (every 10 s), and the next ones wait for that
    /// (SentinelResetDecision): two such waits at most from five remaining
    /// sentinels up, three with four, two with three.
    static let resetBudget: Double = 15
    /// How long paused writes wait for every replica to acknowledge them;
    /// replicas acknowledge once a second.
    static let catchUpLimit: Double = 5

    let node: NodeContext
    let observer: ClusterObserver

    public init(node: NodeContext) {
        self.node = node
        observer = ClusterObserver(node: node)
    }

    public func run() throws {
        let resetDeadline = node.deadline ?? Deadline.after(seconds: handoverBudget + Self.resetBudget)
        let others = (try? observer.passing(ClusterNames.sentinelService).filter { $0 != node.sentinelAnnounce }) ?? []
        try handOver(otherSentinels: others)
        try leaveConsul()
        stopLocalServers()
        resetOtherSentinels(others, until: resetDeadline)
    }

    // MARK: handover

    /// FAILOVER_WAIT_TIMEOUT, cut so that leaving and a first round of
    /// resets still fit in the hook's budget.
    var handoverBudget: Double {
        let configured = node.settings.sentinel.failoverWaitTimeout.inSeconds
        guard let deadline = node.deadline else { return configured }
        return min(configured, max(0, deadline.remainingSeconds - Self.leaveReserve))
    }

    /// Deregistering, shutting the servers down and one round of resets.
    static let leaveReserve: Double = 8

    private func handOver(otherSentinels: [NodeAddress]) throws {
        let deadline = Deadline.after(seconds: handoverBudget)
        var paused: (offset: Int64, since: Deadline)?
        // Once another node is master, the held writes must never run here:
        // they would be acknowledged on a master that is going away. They
        // fail when redis-server shuts down. Only a handover that did not
        // happen gives this node its writes back.
        var handedOver = false
        defer { if paused != nil && !handedOver { unpauseWrites() } }
        // The replicas online when the handover began: those a failover can promote,
        // and the only ones this node sends REDIS_PASSWORD to (a sentinel's answer
        // alone is not trusted with it).
        var replicas: Set<NodeAddress> = []
        while !deadline.hasPassed {
            let held = paused.map { WritePause(offset: $0.offset, seconds: $0.since.elapsedSeconds) }
            let seen = observeForHandover()
            replicas.formUnion(seen.onlineReplicas.keys)
            let plan = PreStopDecision.handover(seen, pause: held, catchUpLimit: Self.catchUpLimit)
            node.log("preStop", plan.reason)
            switch plan.step {
            case .skip:
                return
            case .pauseWrites:
                paused = (try pauseWrites(milliseconds: Int(deadline.remainingSeconds * 1000) + 1000), Deadline.now)
            case .waitForReplicas:
                pause(seconds: 0.05)
            case .awaitRunningFailover:
                handedOver = waitForNewMaster(otherSentinels: otherSentinels, replicas: replicas, until: deadline)
                if handedOver { return }
            case .requestFailover:
                guard requestFailover() else {
                    pause(seconds: 0.5)
                    continue
                }
                handedOver = waitForNewMaster(otherSentinels: otherSentinels, replicas: replicas, until: deadline)
                if handedOver { return }
            }
        }
        node.log("preStop", "no new master within the handover's \(Int(handoverBudget))s (FAILOVER_WAIT_TIMEOUT, within preStop's budget); leaving anyway", level: .warn)
    }

    /// A refusal (no replica Sentinel can promote, the replicas going away
    /// with the rest of the cluster) must not cost the leaving: the next
    /// observation decides again, and a node that cannot hand over still
    /// deregisters and stops.
    private func requestFailover() -> Bool {
        do {
            let sentinel = try node.sentinel()
            defer { sentinel.close() }
            try sentinel.failover(name: ClusterNames.masterName)
            return true
        } catch {
            node.log("preStop", "the local sentinel refused SENTINEL FAILOVER \(ClusterNames.masterName): \(error); observing again", level: .warn)
            return false
        }
    }

    private func observeForHandover() -> PreStopSnapshot {
        let (redis, info) = observer.localRedis()
        var snapshot = PreStopSnapshot(redis: redis)
        if let info {
            var replicas: [NodeAddress: Int64] = [:]
            for replica in info.connectedReplicas where replica.state == "online" {
                guard let address = try? NodeAddress(host: replica.ip, port: replica.port) else { continue }
                replicas[address] = replica.offset ?? 0
            }
            snapshot.onlineReplicas = replicas
            snapshot.masterOffset = info.masterReplicationOffset ?? 0
        }
        do {
            let sentinel = try node.sentinel()
            defer { sentinel.close() }
            snapshot.failoverInProgress = try sentinel.master(name: ClusterNames.masterName).isFailoverInProgress
        } catch {
            snapshot.sentinelReachable = false
        }
        return snapshot
    }

    /// CLIENT PAUSE WRITE holds new writes while letting reads, INFO and
    /// Sentinel's own commands through, so the replicas can reach the last
    /// acknowledged write before one of them is promoted.
    /// Returns the master's offset once the pause holds: every write
    /// acknowledged before it is at or below that offset.
    private func pauseWrites(milliseconds: Int) throws -> Int64 {
        let redis = try node.redis()
        defer { redis.close() }
        _ = try redis.command(["CLIENT", "PAUSE", String(milliseconds), "WRITE"])
        return try redis.info(section: "replication").masterReplicationOffset ?? 0
    }

    private func unpauseWrites() {
        guard let redis = try? node.redis() else { return }
        defer { redis.close() }
        _ = try? redis.command(["CLIENT", "UNPAUSE"])
    }

    /// True once the handover is known to a majority of the sentinels (see
    /// PreStopDecision.handoverDone); the reason is logged when it changes.
    private func waitForNewMaster(otherSentinels: [NodeAddress], replicas: Set<NodeAddress>, until deadline: Deadline) -> Bool {
        var lastReason = ""
        while !deadline.hasPassed {
            let (done, reason) = PreStopDecision.handoverDone(observeProgress(otherSentinels: otherSentinels, replicas: replicas))
            if reason != lastReason {
                node.log("preStop", reason)
                lastReason = reason
            }
            if done { return true }
            pause(seconds: 0.1)
        }
        return false
    }

    private func observeProgress(otherSentinels: [NodeAddress], replicas: Set<NodeAddress>) -> HandoverProgress {
        var named: NodeAddress?
        var inProgress = false
        if let sentinel = try? node.sentinel() {
            defer { sentinel.close() }
            named = try? sentinel.masterAddress(name: ClusterNames.masterName)
            inProgress = (try? sentinel.master(name: ClusterNames.masterName).isFailoverInProgress) ?? false
        }
        var answering = 0
        let othersName = otherSentinels.compactMap { address -> NodeAddress? in
            guard let sentinel = try? node.sentinel(at: address) else { return nil }
            defer { sentinel.close() }
            answering += 1
            return try? sentinel.masterAddress(name: ClusterNames.masterName)
        }
        answering += replicas.filter(answersPing).count
        return HandoverProgress(
            me: node.announce, localNames: named, localFailoverInProgress: inProgress, othersName: othersName,
            sentinelCount: otherSentinels.count + 1,
            namedAnswersAsMaster: named.map { $0 != node.announce && answersAsMaster($0, replicas: replicas) } ?? false,
            livePeers: answering)
    }

    private func answersPing(_ address: NodeAddress) -> Bool {
        guard let client = try? RedisClient.connect(
            to: address.endpoint, credentials: node.credentials, timeout: min(node.redisTimeout, 0.5)) else { return false }
        defer { client.close() }
        return (try? client.ping()) != nil
    }

    private func answersAsMaster(_ address: NodeAddress, replicas: Set<NodeAddress>) -> Bool {
        guard replicas.contains(address) else {
            node.refusals.report("preStop: Sentinel names \(address) master, which this node never listed as its replica "
                + "(\(Array(replicas).listed)); not sending it REDIS_PASSWORD to ask whether it answers as master", to: node.logger)
            return false
        }
        guard let client = try? RedisClient.connect(
            to: address.endpoint, credentials: node.credentials, timeout: node.redisTimeout) else { return false }
        defer { client.close() }
        return (try? client.info(section: "replication").role) == .master
    }

    // MARK: leaving

    private func leaveConsul() throws {
        for id in RoleService.allCases.map(node.serviceID) + [node.sentinelServiceID] {
            do {
                try node.consul.deregisterService(id: id)
            } catch ConsulError.http(_, _, 404, _) {
                continue
            }
        }
        try BootstrapLock(node: node).release()
        node.log("preStop", "deregistered redis, redis-replica and redis-sentinel for \(node.announce)")
    }

    /// The other sentinels would rediscover this node from the master's INFO
    /// and from hello messages for as long as its servers run, so they stop
    /// first. ContainerPilot is stopping these jobs anyway.
    private func stopLocalServers() {
        if let redis = try? node.redis() {
            do {
                try redis.shutdown(timeout: node.redisTimeout)
                node.log("preStop", "redis-server shut down")
            } catch {
                node.log("preStop", "redis-server SHUTDOWN failed: \(error)", level: .warn)
            }
        }
        if let sentinel = try? node.sentinel() {
            defer { sentinel.close() }
            _ = try? sentinel.connection.call(["SHUTDOWN"], timeout: node.redisTimeout)
            node.log("preStop", "redis-sentinel shut down")
        }
    }

    // MARK: resets

    private func resetOtherSentinels(_ sentinels: [NodeAddress], until deadline: Deadline) {
        var lastReason = "no sentinel answered"
        while !deadline.hasPassed {
            let views = sentinels.compactMap(view(of:))
            let plan = SentinelResetDecision.next(
                views: views, asked: sentinels.count, myRedis: node.announce, mySentinel: node.sentinelAnnounce)
            lastReason = plan.reason
            switch plan.step {
            case .done:
                node.log("preStop", plan.reason)
                return
            case .wait:
                node.log("preStop", plan.reason, level: .debug)
                pause(seconds: 0.5)
            case .reset(let targets):
                node.log("preStop", plan.reason)
                for target in targets {
                    do {
                        let sentinel = try node.sentinel(at: target)
                        defer { sentinel.close() }
                        _ = try sentinel.reset(pattern: ClusterNames.masterName)
                    } catch {
                        node.log("preStop", "SENTINEL RESET on \(target) failed: \(error)", level: .warn)
                    }
                }
            }
        }
        node.log("preStop", "sentinel resets not finished within the preStop budget (last: \(lastReason)); the sentinels still listing this node forget it when an operator runs SENTINEL RESET", level: .warn)
    }

    private func view(of address: NodeAddress) -> SentinelView? {
        do {
            let sentinel = try node.sentinel(at: address)
            defer { sentinel.close() }
            let name = ClusterNames.masterName
            let master = try sentinel.master(name: name)
            var detached: Set<NodeAddress> = []
            func listed(_ entry: some SentinelFieldSet, linked: Bool) -> NodeAddress? {
                guard let address = entry.address else { return nil }
                if entry.isDown || !linked { detached.insert(address) }
                return address
            }
            let replicas = try sentinel.replicas(name: name).compactMap { listed($0, linked: $0.masterLinkStatus == "ok") }
            let sentinels = try sentinel.sentinels(name: name).compactMap { listed($0, linked: true) }
            return SentinelView(
                sentinel: address, failoverInProgress: master.isFailoverInProgress,
                replicas: replicas, sentinels: sentinels, detached: detached)
        } catch {
            node.log("preStop", "sentinel \(address) did not answer: \(error)", level: .debug)
            return nil
        }
    }
}
