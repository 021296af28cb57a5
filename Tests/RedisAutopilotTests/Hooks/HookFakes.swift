import Foundation
@testable import RedisAutopilot

/// A clock that moves only when a hook sleeps, so a timeout of minutes runs
/// in microseconds and a test can say how long a hook waited.
final class FakeClock: HookClock {
    private(set) var now: Duration = .zero
    /// Called after every sleep: the world changing while the hook waits.
    var onSleep: (Duration) -> Void = { _ in }

    func sleep(for duration: Duration) {
        now += max(duration, .milliseconds(1))
        onSleep(now)
    }
}

struct FakeUnreachable: Error, CustomStringConvertible {
    var description: String { "fake: no answer" }
}

/// ClusterPort in memory: a catalog of services, this node's agent, checks
/// that start critical as Consul's TTL checks do, KV settings and sessions.
final class FakeCluster: ClusterPort {
    var leaderAnswer: String? = "127.0.0.1:8300"
    var unreachable = false
    var passingInstances: [String: [NodeAddress]] = [:]
    var registeredInstances: [String: [NodeAddress]] = [:]
    var liveInstances: [String: [NodeAddress]] = [:]
    var services: [String: LocalService] = [:]
    var checks: [String: (status: CheckStatus, note: String)] = [:]
    var settings: [String: String] = [:]
    var sessions: Set<String> = []
    var locks: [String: String] = [:]
    /// What each lock's holder wrote into its key.
    var lockValues: [String: String] = [:]
    private(set) var renewals = 0
    private(set) var calls: [String] = []
    private var nextSession = 0

    private func answer(_ call: String) throws {
        calls.append(call)
        if unreachable { throw FakeUnreachable() }
    }

    func leader() throws -> String? {
        try answer("leader")
        return leaderAnswer
    }

    func passing(_ service: String) throws -> [NodeAddress] {
        try answer("passing \(service)")
        return passingInstances[service] ?? []
    }

    func registered(_ service: String) throws -> [NodeAddress] {
        try answer("registered \(service)")
        return registeredInstances[service] ?? passingInstances[service] ?? []
    }

    func live(_ service: String) throws -> [NodeAddress] {
        try answer("live \(service)")
        return liveInstances[service] ?? []
    }

    func localServices() throws -> [LocalService] {
        try answer("localServices")
        return services.values.sorted { $0.id < $1.id }
    }

    func register(_ registration: ServiceRegistration) throws {
        try answer("register \(registration.id)")
        services[registration.id] = LocalService(id: registration.id, name: registration.name, address: registration.address)
        checks["service:" + registration.id] = (.critical, "registered")
    }

    func deregister(id: String) throws {
        try answer("deregister \(id)")
        services[id] = nil
        checks["service:" + id] = nil
    }

    func setCheck(id: String, to status: CheckStatus, note: String) throws -> Bool {
        try answer("check \(id) \(status)")
        guard checks[id] != nil else { return false }
        checks[id] = (status, note)
        return true
    }

    func setting(_ key: String) throws -> String? {
        try answer("setting \(key)")
        return settings[key]
    }

    func createSession(name: String, ttl: Duration, lockDelay: Duration) throws -> String {
        try answer("createSession")
        nextSession += 1
        let id = "session-\(nextSession)"
        sessions.insert(id)
        return id
    }

    func acquire(_ key: String, session: String, value: String) throws -> LockAttempt {
        try answer("acquire \(key)")
        guard sessions.contains(session) else { return .sessionGone }
        if let holder = locks[key], holder != session { return .busy }
        locks[key] = session
        lockValues[key] = value
        return .acquired
    }

    func renew(session: String) throws -> Bool {
        try answer("renew")
        renewals += 1
        return sessions.contains(session)
    }

    func release(_ key: String, session: String, value: String) throws {
        try answer("release \(key)")
        if locks[key] == session { locks[key] = nil }
        sessions.remove(session)
    }

    func holder(of key: String) throws -> LockHolding? {
        try answer("holder \(key)")
        return locks[key].map { LockHolding(session: $0, value: lockValues[key]) }
    }

    /// What Consul does when a session's TTL runs out: its locks go.
    func expire(_ session: String) {
        sessions.remove(session)
        locks = locks.filter { $0.value != session }
    }
}

/// NodePort in memory: this node's Redis (an INFO text, or none), its
/// Sentinel and the peers', with what each write did recorded.
final class FakeNode: NodePort {
    /// nil: Redis does not answer.
    var info: String?
    var listens = true
    /// Keyed by sentinel address; `local` is this node's own.
    var sentinelAnswers: [NodeAddress: SentinelAnswer] = [:]
    var localSentinel: SentinelAnswer? = SentinelAnswer(master: nil, failingOver: false)
    var localSentinelMonitor: SentinelMaster? = SentinelMaster(fields: ["num-other-sentinels": "2", "quorum": "2", "num-slaves": "2"])
    var views: [NodeAddress: SentinelView] = [:]
    /// What this node's Sentinel says of the others (SENTINEL SENTINELS).
    var peers: [SentinelPeer] = []
    var peerRoles: [NodeAddress: PeerRole] = [:]
    var pinging: Set<NodeAddress> = []
    var refuseFailover = false
    var onFailover: (NodeAddress?) -> Void = { _ in }
    var onReset: (NodeAddress) -> Void = { _ in }

    private(set) var pauses: [Duration] = []
    private(set) var unpauses = 0
    private(set) var failoverRequests: [NodeAddress?] = []
    private(set) var resets: [NodeAddress] = []
    private(set) var redisShutdowns = 0
    private(set) var sentinelShutdowns = 0

    func redisInfo() throws -> RedisInfo {
        guard let info else { throw FakeUnreachable() }
        return try RedisInfo(parsing: info)
    }

    func redisListens() -> Bool { listens }

    func pauseWrites(for duration: Duration) throws { pauses.append(duration) }

    func unpauseWrites() { unpauses += 1 }

    func shutdownRedis() throws -> Bool {
        guard info != nil else { return false }
        redisShutdowns += 1
        info = nil
        listens = false
        return true
    }

    func shutdownSentinel() -> Bool {
        guard localSentinel != nil else { return false }
        sentinelShutdowns += 1
        localSentinel = nil
        return true
    }

    func sentinelPing() throws -> SentinelMaster? {
        guard localSentinel != nil else { throw FakeUnreachable() }
        return localSentinelMonitor
    }

    func sentinelMaster(at sentinel: NodeAddress?) throws -> SentinelAnswer {
        let answer: SentinelAnswer?
        if let sentinel { answer = sentinelAnswers[sentinel] } else { answer = localSentinel }
        guard let answer else { throw FakeUnreachable() }
        return answer
    }

    func sentinelPeers() throws -> [SentinelPeer] {
        guard localSentinel != nil else { throw FakeUnreachable() }
        return peers
    }

    func sentinelView(at sentinel: NodeAddress) throws -> SentinelView {
        guard let view = views[sentinel] else { throw FakeUnreachable() }
        return view
    }

    func requestFailover(at sentinel: NodeAddress?) throws {
        if refuseFailover { throw FakeUnreachable() }
        failoverRequests.append(sentinel)
        onFailover(sentinel)
    }

    func resetSentinel(at sentinel: NodeAddress) throws {
        resets.append(sentinel)
        onReset(sentinel)
    }

    func peerRole(_ address: NodeAddress, within limit: Duration) -> PeerRole {
        peerRoles[address] ?? .silent
    }

    func peerAnswersPing(_ address: NodeAddress, within limit: Duration) -> Bool {
        pinging.contains(address) || peerRoles[address].map { $0 != .silent } ?? false
    }

    static func masterInfo(replicas: [(NodeAddress, Int64)] = [], offset: Int64 = 100) -> String {
        var lines = ["# Replication", "role:master", "connected_slaves:\(replicas.count)"]
        for (index, (address, replicaOffset)) in replicas.enumerated() {
            lines.append("slave\(index):ip=\(address.host),port=\(address.port),state=online,offset=\(replicaOffset),lag=0")
        }
        lines.append("master_repl_offset:\(offset)")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func replicaInfo(of master: NodeAddress, linkUp: Bool = true) -> String {
        ["# Replication", "role:slave", "master_host:\(master.host)", "master_port:\(master.port)",
         "master_link_status:\(linkUp ? "up" : "down")", "master_repl_offset:100"].joined(separator: "\r\n") + "\r\n"
    }
}

/// One node as the hooks see it, wired to the fakes: what HookAssembly
/// does with the real ports.
final class FakeWorld {
    let me: NodeAddress
    let mySentinel: NodeAddress
    let identity: NodeIdentity
    let cluster = FakeCluster()
    let node = FakeNode()
    let clock = FakeClock()
    let settings: Settings
    let directory: String
    let lines = LogLines()
    let logger: Logger

    init(port: Int = 6379, environment: [String: String] = [:]) throws {
        me = try NodeAddress(host: "10.0.0.1", port: port)
        mySentinel = try NodeAddress(host: "10.0.0.1", port: 26379)
        identity = NodeIdentity(announce: me, sentinelAnnounce: mySentinel)
        directory = NSTemporaryDirectory() + "hooks-\(UUID().uuidString)"
        var variables = [
            "REDIS_ANNOUNCE_IP": "10.0.0.1", "REDIS_PORT": String(port), "REDIS_DATA_DIR": directory + "/data",
            "REDIS_RUN_DIR": directory + "/run", "REDIS_CONF": directory + "/redis.conf", "SENTINEL_CONF": directory + "/sentinel.conf",
            "LOG_LEVEL": "debug",
        ]
        variables.merge(environment) { $1 }
        settings = try Settings.load(from: variables)
        logger = Logger(settings: settings.log, secrets: [], sink: lines)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func log(_ hook: String) -> HookLog {
        HookLog(logger: logger, hook: hook, node: me)
    }

    func observer(_ hook: String) -> ClusterObserver {
        ClusterObserver(cluster: cluster, node: node, identity: identity, log: log(hook))
    }

    var bootstrapLock: ClusterLock {
        ClusterLock.bootstrap(cluster: cluster, identity: identity, runDir: settings.paths.runDir)
    }

    func chooser(_ hook: String, includeOwnSentinel: Bool = false) -> RoleChooser {
        RoleChooser(observer: observer(hook), lock: bootstrapLock, clock: clock, masterWaitTimeout: settings.redis.masterWaitTimeout,
                    dataDir: settings.paths.dataDir, includeOwnSentinel: includeOwnSentinel)
    }

    var restores = 0

    func onStart() -> OnStartHook {
        var chooser = chooser("onStart")
        chooser.observesSentinelSettings = true
        return OnStartHook(settings: settings, cluster: cluster, chooser: chooser,
                    preparation: MasterPreparation(lock: bootstrapLock) { [unowned self] _ in restores += 1 },
                    checkServers: {}, reconfigScript: "/usr/local/bin/redis-manage")
    }

    func health(_ hook: String = "health") -> HealthHook {
        HealthHook(observer: observer(hook), lock: bootstrapLock, clock: clock, healthTTL: settings.consul.healthTTL)
    }

    func preStop(budget: Duration? = HookBudget.preStop) -> PreStopHook {
        PreStopHook(observer: observer("preStop"), lock: bootstrapLock, clock: clock,
                    failoverWaitTimeout: settings.sentinel.failoverWaitTimeout, budget: budget)
    }

    func file(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}

/// The log lines a hook wrote.
final class LogLines: LogSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func write(line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func contain(_ text: String) -> Bool {
        all.contains { $0.contains(text) }
    }
}
