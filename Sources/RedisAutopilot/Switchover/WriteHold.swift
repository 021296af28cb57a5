/// Holds a master's writes while its reads, INFO and Sentinel's commands go
/// on (CLIENT PAUSE WRITE, Redis 6.2+), so replicas can reach its last
/// acknowledged write before one of them is promoted. The pause carries its
/// own expiry, so a holder that dies cannot leave writes held for good.
struct WriteHold {
    let reach: ClusterReach

    init(reach: ClusterReach) {
        self.reach = reach
    }

    /// Returns the master's offset once the pause holds: every write
    /// acknowledged before it is at or below that offset.
    func hold(_ master: NodeAddress, milliseconds: Int) throws -> Int64 {
        let client = try reach.redis(master)
        defer { client.close() }
        do {
            try client.command(["CLIENT", "PAUSE", String(max(1, milliseconds)), "WRITE"])
        } catch let RedisError.server(_, _, message) {
            // The server was asked and said no: too old, or the command renamed away.
            throw SwitchoverError.pauseRefused(master: master, reason: message)
        }
        return try client.info(section: "replication").masterReplicationOffset ?? 0
    }

    func release(_ master: NodeAddress) throws {
        let client = try reach.redis(master)
        defer { client.close() }
        try client.command(["CLIENT", "UNPAUSE"])
    }

    /// Makes the old master a replica of `newMaster` (what Sentinel does on
    /// its own only seconds later), so its held writes fail as read-only
    /// instead of being acknowledged on a master nobody reads.
    func demote(_ oldMaster: NodeAddress, to newMaster: NodeAddress) throws {
        let client = try reach.redis(oldMaster)
        defer { client.close() }
        try client.replicaOf(host: newMaster.host, port: newMaster.port)
    }
}
