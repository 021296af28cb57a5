/// The composition root: builds each hook from validated settings with the
/// real ports (Consul, RESP), this node's identity, the monotonic clock and
/// a logger per hook. Nothing here is handed to a hook whole.
struct HookAssembly {
    let settings: Settings
    let logger: Logger
    let identity: NodeIdentity
    let consul: ConsulClient
    /// When the hook must be done (ContainerPilot kills it at its job's
    /// `timeout`); nil for hooks without one.
    let deadline: Deadline?
    let budget: Duration?
    let clock = MonotonicClock()
    let refusals = RefusalLog()

    /// `budget`: the hook's own, inside its ContainerPilot job's timeout;
    /// every Consul, Redis and Sentinel call is cut to fit it.
    init(settings: Settings, logger: Logger, within budget: Duration? = nil) throws {
        guard let host = settings.redis.announceIP ?? InterfaceAddresses.firstNonLoopbackIPv4() else {
            throw LifecycleError.noAnnounceAddress
        }
        self.settings = settings
        self.logger = logger
        self.budget = budget
        let deadline = budget.map { Deadline.after(seconds: $0.inSeconds) }
        self.deadline = deadline
        consul = ConsulClient(
            transport: HTTPClient(baseURL: settings.consul.httpAddress, trust: settings.consul.trust), token: settings.consul.token,
            timeout: settings.consul.requestTimeout.inSeconds, deadline: deadline)
        identity = NodeIdentity(
            announce: try NodeAddress(host: host, port: settings.redis.announcePort),
            sentinelAnnounce: try NodeAddress(host: host, port: settings.sentinel.announcePort))
    }

    func log(_ hook: String) -> HookLog {
        HookLog(logger: logger, hook: hook, node: identity.announce, refusals: refusals)
    }

    func cluster(_ hook: String) -> ConsulCluster {
        ConsulCluster(consul: consul, log: log(hook))
    }

    var node: RedisNode {
        RedisNode(settings: settings, identity: identity, deadline: deadline)
    }

    func observer(_ hook: String) -> ClusterObserver {
        ClusterObserver(cluster: cluster(hook), node: node, identity: identity, log: log(hook))
    }

    func bootstrapLock(_ hook: String) -> ClusterLock {
        ClusterLock.bootstrap(cluster: cluster(hook), identity: identity, runDir: settings.paths.runDir)
    }

    func chooser(_ hook: String, includeOwnSentinel: Bool) -> RoleChooser {
        RoleChooser(observer: observer(hook), lock: bootstrapLock(hook), clock: clock,
                    masterWaitTimeout: settings.redis.masterWaitTimeout, dataDir: settings.paths.dataDir,
                    includeOwnSentinel: includeOwnSentinel)
    }

    func preparation(_ hook: String) -> MasterPreparation {
        MasterPreparation(lock: bootstrapLock(hook)) { heartbeat in
            try restore(heartbeat: heartbeat).runOnBootstrap()
        }
    }

    func restore(heartbeat: Heartbeat?) -> BackupRestore {
        BackupRestore(settings: settings, consul: consul, log: log("restore"), heartbeat: heartbeat)
    }

    func exec(_ hook: String) -> ServerExec {
        ServerExec(settings: settings, log: log(hook))
    }

    func onStart(reconfigScript: String?) -> OnStartHook {
        var chooser = chooser("onStart", includeOwnSentinel: false)
        chooser.observesSentinelSettings = true
        return OnStartHook(
            settings: settings, cluster: cluster("onStart"), chooser: chooser,
            preparation: preparation("onStart"),
            checkServers: { [settings, log = log("onStart")] in
                let binaries = ServerBinaryCheck(settings: settings, log: log)
                for program in ServerProgram.allCases { _ = try binaries.supported(program) }
            },
            reconfigScript: reconfigScript)
    }

    func startRedis() -> RedisStartHook {
        RedisStartHook(
            chooser: chooser("startRedis", includeOwnSentinel: true), preparation: preparation("startRedis"),
            confFile: RedisConfFile(settings: settings, announce: identity.announce, log: log("startRedis")), exec: exec("startRedis"))
    }

    func health(_ hook: String = "health") -> HealthHook {
        HealthHook(observer: observer(hook), lock: bootstrapLock(hook), clock: clock, healthTTL: settings.consul.healthTTL)
    }

    func healthSentinel() -> SentinelHealthHook {
        SentinelHealthHook(cluster: cluster("healthSentinel"), node: node, identity: identity, log: log("healthSentinel"),
                           clock: clock, healthTTL: settings.consul.healthTTL)
    }

    func preStop() -> PreStopHook {
        PreStopHook(observer: observer("preStop"), lock: bootstrapLock("preStop"), clock: clock,
                    failoverWaitTimeout: settings.sentinel.failoverWaitTimeout, budget: budget)
    }

    func awaitPreStop() -> AwaitPreStopHook {
        AwaitPreStopHook(node: node, log: log("awaitPreStop"), clock: clock,
                         budget: budget ?? settings.sentinel.failoverWaitTimeout + PreStopHook.resetBudget + .seconds(5))
    }

    func failover(_ change: SentinelSwitch) -> FailoverHook {
        FailoverHook(health: health("failover"), change: change)
    }

    func backup(store: BackupStore, forced: Bool) -> BackupTask {
        BackupTask(settings: settings, consul: consul, observer: observer("backup"), redis: node,
                   lock: ClusterLock.backup(cluster: cluster("backup"), identity: identity), store: store, forced: forced)
    }

    func operatorCommands(output: @escaping (String) -> Void) -> OperatorCommands {
        OperatorCommands(settings: settings, consul: consul, backupTask: { backup(store: $0, forced: true) },
                         restorer: { restore(heartbeat: $0) }, localRedis: node.localEndpoint, output: output)
    }
}
