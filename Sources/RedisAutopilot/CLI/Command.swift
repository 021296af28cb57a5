/// The hooks ContainerPilot runs, named as the original `manage.sh` named its
/// functions so existing ContainerPilot configurations keep working, and the
/// operator's backup commands.
public enum Command: String, Sendable, CaseIterable {
    case preStart
    case onStart
    case startRedis
    case startSentinel
    case health
    case healthSentinel
    case backup
    case preStop
    case awaitPreStop
    case backups
    case restore
    case status
    case switchover

    /// What follows the command name, for the usage lines.
    var usageArguments: String {
        switch self {
        case .backup: return "[--now]"
        case .backups: return "list"
        case .restore: return "--name NAME [--dry-run]"
        case .status: return "[--json]"
        case .switchover: return "[--to HOST:PORT] [--yes]"
        default: return ""
        }
    }

    /// The options this command accepts (besides --help).
    var options: Set<String> {
        switch self {
        case .backup: return ["--now"]
        case .restore: return ["--name", "--dry-run"]
        case .status: return ["--json"]
        case .switchover: return ["--to", "--yes"]
        default: return []
        }
    }

    /// One line for the command list.
    var summary: String {
        switch self {
        case .preStart: return "prepare the Consul agent's config and data dir before the agent starts"
        case .onStart: return "wait for Consul, choose master or replica, write redis.conf and sentinel.conf"
        case .startRedis: return "choose master or replica again, write redis.conf, then become redis-server"
        case .startSentinel: return "find the Sentinel program (REDIS_SENTINEL_BIN), then become it"
        case .health: return "check Redis and keep its Consul registration in step with its real role"
        case .healthSentinel: return "check that Sentinel answers"
        case .backup: return "save a backup to the store when the cluster-wide interval has passed"
        case .preStop: return "hand the master role to a replica and leave the cluster cleanly"
        case .awaitPreStop: return "hold a job ContainerPilot is stopping until preStop is done"
        case .backups: return "list the backups in the store with their Consul metadata"
        case .restore: return "check a backup, or restore it into this node's empty data directory"
        case .status: return "show the cluster: each node's role, Sentinel's and Consul's view, problems"
        case .switchover: return "hand the master role to a replica without losing an acknowledged write"
        }
    }

    /// What calls it and what it does, for `help <command>`.
    var details: String {
        switch self {
        case .preStart:
            return """
            Called by ContainerPilot's preStart job, before the Consul agent starts.
            When CONSUL_LOCAL_CONFIG is set, writes it (a JSON object) to
            CONSUL_LOCAL_CONFIG_FILE so the agent loads it.
            Removes from the agent's data dir (CONSUL_DATA_DIR, its -data-dir) the
            last status of this node's redis, redis-replica and redis-sentinel
            checks, so the restarted agent brings them back critical instead of
            listing an old master as passing until its TTL runs out.
            Logs a WARN when REDIS_PASSWORD is unset and REDIS_BIND is not only
            loopback, and when BACKUP_STORE=auto found no S3 or Manta settings.
            """
        case .onStart:
            return """
            Called by ContainerPilot once the local Consul agent is up, before
            redis-server and redis-sentinel start.
            First finds the server and Sentinel programs (REDIS_SERVER_BIN,
            REDIS_SENTINEL_BIN) and asks each, through a throwaway instance on a
            unix socket, for the features redis-manage uses; a server older
            than Redis 6.2 or lacking one is refused, naming its version.
            Waits up to CONSUL_LEADER_TIMEOUT for a Consul leader, then decides
            whether this node is the master (it takes the bootstrap lock
            service/redis/locks/master when no healthy master exists) or a
            replica of the registered master, waiting up to MASTER_WAIT_TIMEOUT
            for one to pass its health check. Writes REDIS_CONF and SENTINEL_CONF
            for that role, so a restarted old master comes back as a replica.
            When this node is the first master of an empty cluster, restores the
            last backup (RESTORE_ON_FAILURE says what to do if that fails).
            """
        case .startRedis:
            return """
            The redis job's exec: ContainerPilot runs it after onStart and again
            each time redis-server exits (restarts: unlimited), so every start
            of redis-server decides the node's role first. It observes Consul
            and the sentinels as onStart does (a failover in progress is waited
            for; a node whose data dir is empty while replicas hold data asks
            Sentinel to promote one), writes REDIS_CONF for that role, then
            replaces itself with `REDIS_SERVER_BIN REDIS_CONF`. When Consul and the
            sentinels cannot be read, it starts as the replica REDIS_CONF names,
            or, if REDIS_CONF makes it a master, not at all (exit 1 after 2 s;
            ContainerPilot runs it again).
            """
        case .startSentinel:
            return """
            The redis-sentinel job's exec: ContainerPilot runs it after onStart
            and again each time Sentinel exits. Finds the Sentinel program
            (REDIS_SENTINEL_BIN, by default redis-sentinel or valkey-sentinel on
            PATH), checks it has what redis-manage needs as onStart did (asked
            once per binary, remembered in REDIS_RUN_DIR), then replaces itself
            with `REDIS_SENTINEL_BIN SENTINEL_CONF --sentinel`. When the program
            is missing or refused, exits 1 after 2 s.
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
            Called by ContainerPilot as a periodic job on every node.
            When BACKUP_TTL has passed since the last backup of the cluster
            (service/redis/last-backup-time), the node that takes the lock
            service/redis/backups/lock runs BGSAVE, streams the RDB file through
            gzip to the backup store (BACKUP_STORE) as dump-YYYYmmddHHMMSS.rdb.gz
            and records it in Consul: its metadata (sizes, SHA-256) under
            service/redis/backups/<name without .rdb.gz>, then
            service/redis/last-backup. A replica whose link is up takes it; the
            master only when no replica passes in Consul, or when the backup is
            overdue by a whole BACKUP_TTL. BACKUP_KEEP > 0 deletes older backups.
            BACKUP_STORE=local (and auto without S3_BUCKET or MANTA_USER) writes to
            BACKUP_DIR on this node: another node restores from it only when
            BACKUP_DIR is a volume they all mount, and it is lost with the
            container otherwise. Use S3 or Manta for a cluster.
            --now (for an operator): back up from this node now, whatever the
            interval and role; still takes the lock, and fails when it cannot.
            """
        case .preStop:
            return """
            Called by ContainerPilot when the container stops.
            If this node is the master, asks Sentinel to fail over to a replica
            and waits up to FAILOVER_WAIT_TIMEOUT for the hand-over; then
            deregisters this node from Consul and resets the other sentinels so
            they forget it: a few at a time, never so many that those still
            knowing every replica stop being a majority.
            """
        case .awaitPreStop:
            return """
            Called by ContainerPilot on the stopping event of redis-sentinel and
            of consul-agent. ContainerPilot keeps a stopping job running while a
            job that reacts to its stopping event runs, so this keeps Sentinel
            and the Consul agent up until preStop has handed over and shut
            redis-server down (bounded by FAILOVER_WAIT_TIMEOUT plus 20 s).
            """
        case .backups:
            return """
            Run by an operator, not by ContainerPilot.
            `backups list` prints one line per backup found in the store or in
            Consul's metadata: name, save time (UTC), RDB and gzip sizes, the
            node that took it, whether the store has it, and the start of its
            SHA-256. A * marks the one service/redis/last-backup names.
            """
        case .restore:
            return """
            Run by an operator, not by ContainerPilot (onStart restores by
            itself on the first master of an empty cluster).
            --dry-run downloads backup NAME into a temporary file, checks it
            (gzip, SHA-256 and sizes against its metadata, RDB header), prints
            its size, SHA-256 and RDB version, and deletes it.
            Without --dry-run, refuses unless the local Redis is stopped and
            REDIS_DATA_DIR holds no data; then restores NAME as onStart does:
            dump.rdb, loaded into an append-only file by a temporary redis-server.
            """
        case .status:
            return """
            Run by an operator, not by ContainerPilot: inside any node's
            container, or anywhere that reaches a node's Consul agent
            (CONSUL_HTTP_ADDR) and the nodes.
            Asks the Consul agent and the local Sentinel, then every Redis and
            Sentinel they name, all at once, and prints: the master, sentinels
            answering / known, quorum, whether a failover is possible, the
            bootstrap lock holder and the last backup (name, age, node); then a
            row per Redis node (the role Redis reports, what Sentinel calls it,
            its Consul services and check states, replication link and lag in
            bytes and seconds behind the master) and a row per sentinel.
            Problems are flagged in their row and listed at the end: a node or
            sentinel that does not answer, a replica whose link is down, two
            masters, Consul and Sentinel disagreeing, sentinels disagreeing,
            no failover possible, a backup older than twice BACKUP_TTL, Consul
            unreachable (the Redis and Sentinel part is still shown).
            Ends within CONSUL_TIMEOUT + REDIS_TIMEOUT even when nodes are down.
            --json prints the same as one JSON document. Colour only on a
            terminal, never with NO_COLOR set.
            Exit status: 0 healthy, 1 degraded, 2 wrong command line or settings.
            """
        case .switchover:
            return """
            Run by an operator, not by ContainerPilot: a planned handover of the
            master role with no acknowledged write lost, bounded by
            FAILOVER_WAIT_TIMEOUT.
            Checks first and refuses (exit 3), saying why, when the master or
            Sentinel cannot be read, a failover is already running, Sentinel has
            no quorum (CKQUORUM) or too few sentinels answer, the sentinels
            disagree on the master, or the target (--to HOST:PORT, a replica's
            announced address) is not a healthy replica of the master: not
            online, flagged down by Sentinel, silent for over 2 s, unknown to
            Sentinel, or replica-priority 0. Without --to, Sentinel picks among
            the replicas, so every one it may pick must be healthy and catch up.
            On a terminal it asks for confirmation unless --yes; elsewhere
            --yes is required.
            With --to, sets replica-priority 0 on the other replicas so that
            Sentinel can promote only the target, and waits until Sentinel has
            seen it. Pauses writes on the master (CLIENT PAUSE WRITE) for at most
            half of SENTINEL_DOWN_AFTER, until the replica(s) hold every
            acknowledged write; asks Sentinel to fail over (SENTINEL FAILOVER);
            once the promoted replica is master, makes the old master its
            replica and releases the held writes (they fail: read-only); then
            waits until a majority of the sentinels and Consul's passing redis
            name the new master and Sentinel has repointed the replicas. The
            other replicas get their priorities back, also on failure; the old
            master gets its writes back if no failover happened.
            Prints a progress line at each step.
            Exit status: 0 done, 1 failed or timed out (nothing is left paused),
            2 wrong command line or settings, 3 refused or not confirmed.
            """
        }
    }
}
