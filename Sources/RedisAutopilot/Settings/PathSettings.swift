/// Where this node keeps its data, configuration and sockets: settings so that
/// several nodes can share one host in the tests.
struct PathSettings: Sendable, Equatable {
    /// `REDIS_DATA_DIR`: RDB and AOF files.
    var dataDir: String
    /// `REDIS_CONF`: the redis.conf onStart writes.
    var redisConf: String
    /// `SENTINEL_CONF`: the sentinel.conf onStart writes.
    var sentinelConf: String
    /// `REDIS_RUN_DIR`: pid files and sockets.
    var runDir: String

    static func read(from reader: inout EnvironmentReader) -> PathSettings {
        PathSettings(
            dataDir: reader.value("REDIS_DATA_DIR", default: "/data", ValueParsers.absolutePath),
            redisConf: reader.value("REDIS_CONF", default: "/etc/redis/redis.conf", ValueParsers.absolutePath),
            sentinelConf: reader.value("SENTINEL_CONF", default: "/etc/redis/sentinel.conf", ValueParsers.absolutePath),
            runDir: reader.value("REDIS_RUN_DIR", default: "/var/run/redis", ValueParsers.absolutePath)
        )
    }
}
