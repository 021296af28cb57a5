/// preStop: hands the master role over, leaves Consul, stops this node's
/// Redis and Sentinel, and makes the other sentinels forget them. Three
/// stages, each its own observe-decide-act loop: handover, leave, reset.
struct PreStopHook {
    /// Bound on making the other sentinels forget this node, beyond the
    /// handover's FAILOVER_WAIT_TIMEOUT; resets may also use what the handover
    /// left unused. A reset sentinel relearns the replicas only from the
    /// master's next INFO (every 10 s), and the next ones wait for that
    /// (SentinelResetDecision): two such waits at most from five remaining
    /// sentinels up, three with four, two with three.
    static let resetBudget: Duration = .seconds(15)
    /// How long paused writes wait for every replica to acknowledge them;
    /// replicas acknowledge once a second.
    static let catchUpLimit: Duration = .seconds(5)
    /// Deregistering, shutting the servers down and one round of resets.
    static let leaveReserve: Duration = .seconds(8)
    /// How long a replica that was online may take to answer PING, and the
    /// node Sentinel names to answer ROLE, while the handover is followed.
    static let peerPingLimit: Duration = .milliseconds(500)
    static let peerRoleLimit: Duration = .seconds(30)

    let observer: ClusterObserver
    let lock: ClusterLock
    let clock: HookClock
    let failoverWaitTimeout: Duration
    /// What is left of the hook's own budget; nil without one.
    let budget: Duration?

    var cluster: ClusterPort { observer.cluster }
    var node: NodePort { observer.node }
    var identity: NodeIdentity { observer.identity }
    var log: HookLog { observer.log }

    /// FAILOVER_WAIT_TIMEOUT, cut so that leaving and a first round of
    /// resets still fit in the hook's budget.
    var handoverBudget: Duration {
        guard let budget else { return failoverWaitTimeout }
        return min(failoverWaitTimeout, max(.zero, budget - Self.leaveReserve))
    }

    func run() throws {
        let deadline = HookDeadline.after(budget ?? handoverBudget + Self.resetBudget, on: clock)
        let others = (try? cluster.passing(ClusterNames.sentinelService).filter { $0 != identity.sentinelAnnounce }) ?? []
        try handOver(otherSentinels: others)
        try leaveConsul()
        stopLocalServers()
        resetOtherSentinels(others, until: deadline)
    }

    // MARK: handover

    private func handOver(otherSentinels: [NodeAddress]) throws {
        var pausedAt: Duration?
        var pauseOffset: Int64?
        var following = false
        // The replicas online when the handover began: those a failover can promote,
        // and the only ones this node sends REDIS_PASSWORD to (a sentinel's answer
        // alone is not trusted with it).
        var replicas: Set<NodeAddress> = []
        let handoverDeadline = HookDeadline.after(handoverBudget, on: clock)
        let handedOver = try HookDriver(clock: clock, log: log).run(
            until: handoverDeadline,
            observe: { _ -> HandoverSeen in
                if following { return .progress(observeProgress(otherSentinels: otherSentinels, replicas: replicas)) }
                let seen = observeLocal()
                replicas.formUnion(seen.onlineReplicas.keys)
                // The first observation after the pause holds: every write
                // acknowledged before it is at or below this offset.
                if pausedAt != nil && pauseOffset == nil { pauseOffset = seen.masterOffset }
                let pause = pausedAt.map { WritePause(offset: pauseOffset ?? seen.masterOffset, held: clock.now - $0) }
                return .local(seen, pause: pause)
            },
            decide: { PreStopDecision.handoverCycle($0, catchUpLimit: Self.catchUpLimit) },
            act: { plan -> CycleOutcome<Bool> in
                switch plan.step {
                case .finished(let handedOver):
                    return .done(handedOver)
                case .pauseWrites:
                    try node.pauseWrites(for: handoverDeadline.remaining + .seconds(1))
                    pausedAt = clock.now
                    return .again(after: .zero)
                case .requestFailover:
                    // A refusal (no replica Sentinel can promote, the replicas
                    // going away with the rest of the cluster) must not cost the
                    // leaving: the next observation decides again.
                    do {
                        try node.requestFailover(at: nil)
                    } catch {
                        log("the local sentinel refused SENTINEL FAILOVER \(ClusterNames.masterName): \(error); observing again", level: .warn)
                        return .again(after: .milliseconds(500))
                    }
                    following = true
                    return .again(after: .zero)
                case .followFailover:
                    following = true
                    return .again(after: .zero)
                case .observeAgain(let pause):
                    return .again(after: pause)
                }
            })
        if handedOver == nil {
            log("no new master within the handover's \(Int(handoverBudget.inSeconds))s (FAILOVER_WAIT_TIMEOUT, within preStop's budget); "
                + "leaving anyway", level: .warn)
        }
        // Once another node is master, the held writes must never run here:
        // they would be acknowledged on a master that is going away. They
        // fail when redis-server shuts down. Only a handover that did not
        // happen gives this node its writes back.
        if pausedAt != nil && handedOver != true { node.unpauseWrites() }
    }

    private func observeLocal() -> PreStopSnapshot {
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
            snapshot.failoverInProgress = try node.sentinelMaster(at: nil).failingOver
        } catch {
            snapshot.sentinelReachable = false
        }
        return snapshot
    }

    private func observeProgress(otherSentinels: [NodeAddress], replicas: Set<NodeAddress>) -> HandoverProgress {
        let local = try? node.sentinelMaster(at: nil)
        var answering = 0
        var otherSentinelsMasters: [NodeAddress] = []
        for address in otherSentinels {
            guard let answer = try? node.sentinelMaster(at: address) else { continue }
            answering += 1
            if let master = answer.master { otherSentinelsMasters.append(master) }
        }
        answering += replicas.filter { node.peerAnswersPing($0, within: Self.peerPingLimit) }.count
        let named = local?.master
        return HandoverProgress(
            me: identity.announce, localMaster: named, localFailoverInProgress: local?.failingOver ?? false,
            otherSentinelsMasters: otherSentinelsMasters,
            sentinelCount: otherSentinels.count + 1,
            namedAnswersAsMaster: named.map { $0 != identity.announce && answersAsMaster($0, replicas: replicas) } ?? false,
            livePeers: answering)
    }

    private func answersAsMaster(_ address: NodeAddress, replicas: Set<NodeAddress>) -> Bool {
        guard replicas.contains(address) else {
            log.refuse("preStop: Sentinel names \(address) master, which this node never listed as its replica "
                + "(\(Array(replicas).listed)); not sending it REDIS_PASSWORD to ask whether it answers as master")
            return false
        }
        return node.peerRole(address, within: Self.peerRoleLimit) == .master
    }

    // MARK: leaving

    private func leaveConsul() throws {
        for id in RoleService.allCases.map(identity.serviceID) + [identity.sentinelServiceID] {
            try cluster.deregister(id: id)
        }
        try lock.release()
        log("deregistered redis, redis-replica and redis-sentinel for \(identity.announce)")
    }

    /// The other sentinels would rediscover this node from the master's INFO
    /// and from hello messages for as long as its servers run, so they stop
    /// first. ContainerPilot is stopping these jobs anyway.
    private func stopLocalServers() {
        do {
            if try node.shutdownRedis() { log("redis-server shut down") }
        } catch {
            log("redis-server SHUTDOWN failed: \(error)", level: .warn)
        }
        if node.shutdownSentinel() { log("redis-sentinel shut down") }
    }

    // MARK: resets

    private func resetOtherSentinels(_ sentinels: [NodeAddress], until deadline: HookDeadline) {
        var lastReason = "no sentinel answered"
        let done: Void? = try? HookDriver(clock: clock, log: log).run(
            until: deadline,
            observe: { _ in sentinels.compactMap(view(of:)) },
            decide: { views -> ResetPlan in
                let plan = SentinelResetDecision.next(
                    views: views, asked: sentinels.count, myRedis: identity.announce, mySentinel: identity.sentinelAnnounce)
                lastReason = plan.reason
                return plan
            },
            act: { plan -> CycleOutcome<Void> in
                switch plan.step {
                case .done:
                    return .done(())
                case .wait:
                    return .again(after: .milliseconds(500))
                case .reset(let targets):
                    for target in targets {
                        do {
                            try node.resetSentinel(at: target)
                        } catch {
                            log("SENTINEL RESET on \(target) failed: \(error)", level: .warn)
                        }
                    }
                    return .again(after: .zero)
                }
            })
        if done == nil {
            log("sentinel resets not finished within the preStop budget (last: \(lastReason)); the sentinels still listing this node "
                + "forget it when an operator runs SENTINEL RESET", level: .warn)
        }
    }

    private func view(of address: NodeAddress) -> SentinelView? {
        do {
            return try node.sentinelView(at: address)
        } catch {
            log("sentinel \(address) did not answer: \(error)", level: .debug)
            return nil
        }
    }
}
