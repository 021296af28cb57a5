/// What `status` read from one Redis: its INFO replication fields, or why
/// it could not.
public struct RedisReading: Sendable, Equatable {
    public var address: NodeAddress
    /// nil when the node did not answer (see `error`).
    public var info: RedisInfo?
    public var error: String?

    public init(address: NodeAddress, info: RedisInfo? = nil, error: String? = nil) {
        self.address = address
        self.info = info
        self.error = error
    }
}

/// What `status` read from one Sentinel about the monitored master.
public struct SentinelReading: Sendable, Equatable {
    public var address: NodeAddress
    public var error: String?
    /// nil when it does not monitor the master.
    public var masterAddress: NodeAddress?
    public var master: SentinelMaster?
    public var replicas: [SentinelReplica]
    public var peers: [SentinelPeer]
    public var quorum: SentinelQuorumCheck?

    public init(address: NodeAddress, error: String? = nil, masterAddress: NodeAddress? = nil, master: SentinelMaster? = nil,
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
public struct ConsulInstance: Sendable, Equatable {
    public var service: String
    public var id: String
    public var consulNode: String
    public var address: NodeAddress
    public var status: ConsulCheckStatus

    public init(service: String, id: String, consulNode: String, address: NodeAddress, status: ConsulCheckStatus) {
        self.service = service
        self.id = id
        self.consulNode = consulNode
        self.address = address
        self.status = status
    }
}

/// The last backup as Consul records it.
public struct BackupReading: Sendable, Equatable {
    public var name: String
    /// Unix seconds of the save; nil when neither its metadata nor
    /// `last-backup-time` says.
    public var savedAt: Int64?
    public var node: String?

    public init(name: String, savedAt: Int64?, node: String?) {
        self.name = name
        self.savedAt = savedAt
        self.node = node
    }
}

/// What Consul told `status`; `error` set when the agent could not be read.
public struct ConsulReading: Sendable, Equatable {
    public var error: String?
    public var instances: [ConsulInstance]
    /// The bootstrap lock's value (the holder's address) while a session holds it.
    public var lockHolder: String?
    public var lastBackup: BackupReading?

    public init(error: String? = nil, instances: [ConsulInstance] = [], lockHolder: String? = nil, lastBackup: BackupReading? = nil) {
        self.error = error
        self.instances = instances
        self.lockHolder = lockHolder
        self.lastBackup = lastBackup
    }
}

/// Everything `status` observed, in one value for the pure assessment.
public struct StatusSnapshot: Sendable, Equatable {
    public var consul: ConsulReading
    public var sentinels: [SentinelReading]
    public var redis: [RedisReading]
    /// Unix seconds when it was read.
    public var now: Int64
    /// BACKUP_TTL in seconds: a backup older than twice this is stale.
    public var backupTTL: Double

    public init(consul: ConsulReading, sentinels: [SentinelReading], redis: [RedisReading], now: Int64, backupTTL: Double) {
        self.consul = consul
        self.sentinels = sentinels
        self.redis = redis
        self.now = now
        self.backupTTL = backupTTL
    }
}
