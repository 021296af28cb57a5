/// How this node's Sentinel is reached and how it judges the master.
struct SentinelSettings: Sendable, Equatable {
    /// `SENTINEL_PORT`
    var port: Int
    /// `SENTINEL_ANNOUNCE_PORT`: defaults to `port`.
    var announcePort: Int
    /// `SENTINEL_DOWN_AFTER`: `down-after-milliseconds`.
    var downAfter: Duration
    /// `SENTINEL_PARALLEL_SYNCS`: `parallel-syncs`.
    var parallelSyncs: Int
    /// `FAILOVER_WAIT_TIMEOUT`: how long preStop waits for a replica to take
    /// over before this master stops anyway.
    var failoverWaitTimeout: Duration

    static func read(from reader: inout EnvironmentReader) -> SentinelSettings {
        let port = reader.value("SENTINEL_PORT", default: 26379, ValueParsers.port)
        return SentinelSettings(
            port: port,
            announcePort: reader.value("SENTINEL_ANNOUNCE_PORT", default: port, ValueParsers.port),
            downAfter: reader.value("SENTINEL_DOWN_AFTER", default: .seconds(5)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .milliseconds(1), granularity: .milliseconds(1))
            },
            parallelSyncs: reader.value("SENTINEL_PARALLEL_SYNCS", default: 1) { text throws(InvalidValue) in
                try ValueParsers.integer(text, in: 1...1000)
            },
            failoverWaitTimeout: reader.value("FAILOVER_WAIT_TIMEOUT", default: .seconds(20)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .milliseconds(1))
            }
        )
    }
}
