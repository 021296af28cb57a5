/// What `status` read from one Redis: its INFO replication fields, or why
/// it could not.
struct RedisReading: Sendable, Equatable {
    var address: NodeAddress
    /// nil when the node did not answer (see `error`).
    var info: RedisInfo?
    var error: String?

    init(address: NodeAddress, info: RedisInfo? = nil, error: String? = nil) {
        self.address = address
        self.info = info
        self.error = error
    }
}

/// What `status` read from one Sentinel about the monitored master.
struct SentinelReading: Sendable, Equatable {
    var address: NodeAddress
    var error: String?
    /// nil when it does not monitor the master.
    var masterAddress: NodeAddress?
    var master: SentinelMaster?
    var replicas: [SentinelReplica]
    var peers: [SentinelPeer]
    var quorum: SentinelQuorumCheck?

    init(address: NodeAddress, error: String? = nil, masterAddress: NodeAddress? = nil, master: SentinelMaster? = nil,
                replicas: [SentinelReplica] = [], peers: [SentinelPeer] = [], quorum: SentinelQuorumCheck? = nil) {
        self.address = address
        self.error = error
        self.masterAddress = masterAddress
        self.master = master
        self.replicas = replicas
        self.peers = peers
        self.quorum = quorum
    }
}

/// One instance of `redis`, `redis-replica` or `redis-sentinel` in Consul,
/// with the worst status among its checks and its node's.
struct ConsulInstance: Sendable, Equatable {
    var service: String
    var id: String
    var consulNode: String
    var address: NodeAddress
    var status: ConsulCheckStatus

    init(service: String, id: String, consulNode: String, address: NodeAddress, status: ConsulCheckStatus) {
        self.service = service
        self.id = id
        self.consulNode = consulNode
        self.address = address
        self.status = status
    }
}

/// The last backup as Consul records it.
struct BackupReading: Sendable, Equatable {
    var name: String
    /// Unix seconds of the save; nil when neither its metadata nor
    /// `last-backup-time` says.
    var savedAt: Int64?
    var node: String?

    init(name: String, savedAt: Int64?, node: String?) {
        self.name = name
        self.savedAt = savedAt
        self.node = node
    }
}

/// What Consul told `status`; `error` set when the agent could not be read.
struct ConsulReading: Sendable, Equatable {
    var error: String?
    var instances: [ConsulInstance]
    /// The bootstrap lock's value (the holder's address) while a session holds it.
    var lockHolder: String?
    var lastBackup: BackupReading?

    init(error: String? = nil, instances: [ConsulInstance] = [], lockHolder: String? = nil, lastBackup: BackupReading? = nil) {
        self.error = error
        self.instances = instances
        self.lockHolder = lockHolder
        self.lastBackup = lastBackup
    }
}

/// Everything `status` observed, in one value for the pure assessment.
struct StatusSnapshot: Sendable, Equatable {
    var consul: ConsulReading
    var sentinels: [SentinelReading]
    var redis: [RedisReading]
    /// Unix seconds when it was read.
    var now: Int64
    /// BACKUP_TTL in seconds: a backup older than twice this is stale.
    var backupTTL: Double

    init(consul: ConsulReading, sentinels: [SentinelReading], redis: [RedisReading], now: Int64, backupTTL: Double) {
        self.consul = consul
        self.sentinels = sentinels
        self.redis = redis
        self.now = now
        self.backupTTL = backupTTL
    }
}
