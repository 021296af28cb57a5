/// The hooks ContainerPilot runs, named as the original `manage.sh` named its
/// functions so existing ContainerPilot configurations keep working.
public enum Command: String, Sendable, CaseIterable {
    case preStart
    case onStart
    case health
    case healthSentinel
    case backup
    case preStop
    case awaitPreStop

    /// One line for the command list.
    public var summary: String {
        switch self {
        case .preStart: return "write the Consul agent's local config before the agent starts"
        case .onStart: return "wait for Consul, choose master or replica, write redis.conf and sentinel.conf"
        case .health: return "check Redis and keep its Consul registration in step with its real role"
        case .healthSentinel: return "check that Sentinel answers"
        case .backup: return "save a backup to the store when the cluster-wide interval has passed"
        case .preStop: return "hand the master role to a replica and leave the cluster cleanly"
        case .awaitPreStop: return "hold a job ContainerPilot is stopping until preStop is done"
        }
    }

    /// What calls it and what it does, for `help <command>`.
    public var details: String {
        switch self {
        case .preStart:
            return """
            Called by ContainerPilot's preStart job, before the Consul agent starts.
            When CONSUL_LOCAL_CONFIG is set, writes it (a JSON object) to
            CONSUL_LOCAL_CONFIG_FILE so the agent loads it.
            """
        case .onStart:
            return """
            Called by ContainerPilot once the local Consul agent is up, before
            redis-server and redis-sentinel start.
            Waits up to CONSUL_LEADER_TIMEOUT for a Consul leader, then decides
            whether this node is the master (it takes the bootstrap lock
            service/redis/locks/master when no healthy master exists) or a
            replica of the registered master, waiting up to MASTER_WAIT_TIMEOUT
            for one to pass its health check. Writes REDIS_CONF and SENTINEL_CONF
            for that role, so a restarted old master comes back as a replica.
            When this node is the first master of an empty cluster, restores the
            last backup (RESTORE_ON_FAILURE says what to do if that fails).
            """
        case .health:
            return """
            Called by ContainerPilot as the redis job's health check (every 5 s).
            Sends PING and INFO to Redis, registers this node in Consul as
            "redis" (master) or "redis-replica" (replica) according to its real
            role, and passes that service's TTL check (HEALTH_TTL). Releases the
            bootstrap lock once this master is registered and passing.
            When Redis does not answer, marks the check critical and exits 1.
            """
        case .healthSentinel:
            return """
            Called by ContainerPilot as the redis-sentinel job's health check
            (every 5 s). Sends PING to Sentinel on SENTINEL_PORT; exits 1 when
            it does not answer.
            """
        case .backup:
            return """
            Called by ContainerPilot as a periodic job.
            When BACKUP_TTL has passed since the last backup of the cluster,
            runs BGSAVE, streams the RDB file through gzip to the backup store
            (BACKUP_STORE: Manta, S3 or a local directory) and records its name
            in Consul under service/redis/last-backup.
            """
        case .preStop:
            return """
            Called by ContainerPilot when the container stops.
            If this node is the master, asks Sentinel to fail over to a replica
            and waits up to FAILOVER_WAIT_TIMEOUT for the hand-over; then
            deregisters this node from Consul and resets the other sentinels,
            one at a time, so they forget it.
            """
        case .awaitPreStop:
            return """
            Called by ContainerPilot on the stopping event of redis-sentinel and
            of consul-agent. ContainerPilot keeps a stopping job running while a
            job that reacts to its stopping event runs, so this keeps Sentinel
            and the Consul agent up until preStop has handed over and shut
            redis-server down (bounded by FAILOVER_WAIT_TIMEOUT plus 20 s).
            """
        }
    }
}
