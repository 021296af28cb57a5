import Foundation

/// A finished BGSAVE: where the RDB file is and when it was saved.
struct SavedRDB {
    var path: String
    var savedAt: Int64
    var redisVersion: RedisVersion
}

/// Has Redis write a fresh RDB file and waits for it by INFO persistence.
struct RDBSnapshot {
    static let pollInterval = 0.1

    let client: RedisClient
    let deadline: Deadline
    let timeoutSeconds: Int
    let heartbeat: Heartbeat?
    let log: (String) -> Void

    func take() throws -> SavedRDB {
        let version = try client.serverVersion()
        let before = try client.info(section: "persistence").rdbLastSaveTime ?? 0
        // rdb_last_save_time counts whole seconds: a save ending in the second
        // of the previous one could not be told from it.
        while Int64(Date().timeIntervalSince1970) <= before {
            try check(lastSeen: "waiting for the clock to pass the previous save at \(before)")
            pause(seconds: 0.05)
        }
        let started = try startSave()
        log("BGSAVE \(started == .scheduled ? "scheduled behind a running child process" : "started"); previous save at \(before)")
        var sawRunning = started == .started
        while true {
            let info = try client.info(section: "persistence")
            let running = info.rdbBgsaveInProgress ?? false
            let status = info.rdbLastBgsaveStatus ?? "?"
            let savedAt = info.rdbLastSaveTime ?? 0
            sawRunning = sawRunning || running
            if !running, status == "ok", savedAt > before {
                let config = try client.configGet("dir").merging(try client.configGet("dbfilename")) { first, _ in first }
                guard let dir = config["dir"], let file = config["dbfilename"], !dir.isEmpty, !file.isEmpty else {
                    throw BackupError.saveFailed(reason: "CONFIG GET dir/dbfilename gave no path")
                }
                return SavedRDB(path: dir.hasSuffix("/") ? dir + file : dir + "/" + file, savedAt: savedAt, redisVersion: version)
            }
            if !running, status == "err", sawRunning {
                throw BackupError.saveFailed(reason: "rdb_last_bgsave_status:err (see the Redis log)")
            }
            try check(lastSeen: "rdb_bgsave_in_progress:\(running ? 1 : 0) rdb_last_bgsave_status:\(status) rdb_last_save_time:\(savedAt) (before: \(before))")
            pause(seconds: Self.pollInterval)
        }
    }

    /// BGSAVE, or BGSAVE SCHEDULE so that a running AOF rewrite queues it
    /// instead of refusing it; a save already running is waited for and
    /// asked again, as its data predates this request.
    private func startSave() throws -> RedisClient.BackgroundSave {
        while true {
            do {
                return try client.bgsave(schedule: true)
            } catch let RedisError.server(_, _, message) where message.lowercased().contains("already in progress") {
                try check(lastSeen: "a background save already in progress")
                pause(seconds: Self.pollInterval)
            }
        }
    }

    private func check(lastSeen: String) throws {
        if deadline.hasPassed { throw BackupError.saveTimedOut(seconds: timeoutSeconds, lastSeen: lastSeen) }
        try heartbeat?.beat()
    }
}
