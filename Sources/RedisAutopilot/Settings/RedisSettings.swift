/// How this node's redis-server is reached, announced and bounded.
struct RedisSettings: Sendable, Equatable {
    /// `REDIS_PORT`
    var port: Int
    /// `REDIS_BIND`: addresses redis-server and redis-sentinel listen on.
    var bind: [String]
    /// `REDIS_ANNOUNCE_IP`: nil means detect this node's address at run time.
    var announceIP: String?
    /// `REDIS_ANNOUNCE_PORT`: defaults to `port`.
    var announcePort: Int
    /// `REDIS_USERNAME`: ACL user for AUTH; nil means the default user.
    var username: String?
    /// `REDIS_PASSWORD` (secret).
    var password: String?
    /// `REDIS_TIMEOUT`: bound on each Redis command.
    var timeout: Duration
    /// `MASTER_WAIT_TIMEOUT`: how long onStart waits for a registered master
    /// to become healthy before deciding without it.
    var masterWaitTimeout: Duration
    /// `MIN_REPLICAS_TO_WRITE`: 0 leaves `min-replicas-to-write` off.
    var minReplicasToWrite: Int
    /// `MIN_REPLICAS_MAX_LAG`: Redis takes it in whole seconds.
    var minReplicasMaxLag: Duration
    /// `REDIS_RUN_AS`: the user redis-server and redis-sentinel run as when
    /// redis-manage runs as root; `root` keeps them as root.
    var runAs: String = "redis"

    static func read(from reader: inout EnvironmentReader) -> RedisSettings {
        let port = reader.value("REDIS_PORT", default: 6379, ValueParsers.port)
        return RedisSettings(
            port: port,
            bind: reader.value("REDIS_BIND", default: ["0.0.0.0"]) { text throws(InvalidValue) in
                let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
                guard !words.isEmpty else { throw InvalidValue(expected: "one or more IP addresses separated by spaces or commas") }
                return try words.map { word throws(InvalidValue) in try ValueParsers.ipAddress(word) }
            },
            announceIP: reader.optional("REDIS_ANNOUNCE_IP", ValueParsers.ipAddress),
            announcePort: reader.value("REDIS_ANNOUNCE_PORT", default: port, ValueParsers.port),
            // Both go into sentinel.conf, which Sentinel's CONFIG REWRITE
            // writes back unquoted: a space or quote would keep it from
            // starting again.
            username: reader.optional("REDIS_USERNAME") { text throws(InvalidValue) in
                try ValueParsers.bareWord(text, what: "an ACL user name")
            },
            password: reader.optional("REDIS_PASSWORD") { text throws(InvalidValue) in
                try ValueParsers.bareWord(text, what: "a password")
            },
            timeout: reader.value("REDIS_TIMEOUT", default: .seconds(5)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .milliseconds(1))
            },
            masterWaitTimeout: reader.value("MASTER_WAIT_TIMEOUT", default: .seconds(60)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .zero)
            },
            minReplicasToWrite: reader.value("MIN_REPLICAS_TO_WRITE", default: 0) { text throws(InvalidValue) in
                try ValueParsers.integer(text, in: 0...1000)
            },
            minReplicasMaxLag: reader.value("MIN_REPLICAS_MAX_LAG", default: .seconds(10)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .seconds(1), granularity: .seconds(1))
            },
            runAs: reader.value("REDIS_RUN_AS", default: "redis") { text throws(InvalidValue) in
                try ValueParsers.name(text, extraCharacters: "-_.", what: "a user name")
            }
        )
    }
}
