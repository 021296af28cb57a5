/// This node's redis.conf: written for the role just chosen, and read back
/// for the role it last had (Sentinel rewrites its replication line with
/// CONFIG REWRITE when it reconfigures the server).
struct RedisConfFile {
    let settings: Settings
    let announce: NodeAddress
    let log: HookLog

    var path: String { settings.paths.redisConf }

    func write(replicaOf: NodeAddress?) throws {
        let text = try RedisConfWriter.render(RedisConfInput(
            port: settings.redis.port, bind: settings.redis.bind, dataDirectory: settings.paths.dataDir,
            announce: announce, replicaOf: replicaOf, password: settings.redis.password,
            username: settings.redis.username, minReplicasToWrite: settings.redis.minReplicasToWrite,
            minReplicasMaxLagSeconds: Int(settings.redis.minReplicasMaxLag.inSeconds)))
        try ConfigFile.write(text, to: path)
        log("wrote \(path) as \(replicaOf.map { "replica of \($0)" } ?? "master")")
    }

    /// The master the existing file replicates from; nil when it has none
    /// (a master's file, or no file).
    func configuredMaster() -> NodeAddress? {
        ConfigFile.read(path).flatMap(RedisConfReplication.master(in:))
    }
}

/// The `replicaof` line of a redis.conf.
enum RedisConfReplication {
    /// The last replication line wins, as in Redis; a line that does not name
    /// a host and a port 1-65535 names nothing.
    static func master(in text: String) -> NodeAddress? {
        var master: NodeAddress?
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.trimmingCharacters(in: ["\""]) }
            guard let directive = words.first?.lowercased(), directive == "replicaof" else { continue }
            if words.count == 3, !words[1].isEmpty, let port = Int(words[2]), (1...65535).contains(port) {
                master = try? NodeAddress(host: words[1], port: port)
            } else {
                master = nil
            }
        }
        return master
    }
}
