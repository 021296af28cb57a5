/// What a server program said about itself when asked (ServerProbe): its
/// name and version from INFO, and the features redis-manage uses that it
/// refused.
struct ServerReport: Codable, Sendable, Equatable {
    /// `server_name` from INFO (`valkey`); Redis has none and is `redis`.
    var product: String
    /// The product's own version (`valkey_version`, else `redis_version`).
    var version: String
    /// `redis_version`: Valkey reports the Redis release it is compatible with.
    var redisVersion: String
    /// One entry per feature it refused: what was asked and what came back.
    var missing: [String]

    init(product: String, version: String, redisVersion: String, missing: [String]) {
        self.product = product
        self.version = version
        self.redisVersion = redisVersion
        self.missing = missing
    }

    var name: String {
        (product == "redis" ? "Redis" : product == "valkey" ? "Valkey" : product) + " " + version
    }
}

/// Which servers redis-manage runs on: those CI tests, nothing older.
enum ServerSupport {
    /// The oldest release CI runs; below it, the features probed are not all there.
    static let oldest = RedisVersion(major: 6, minor: 2)
    static let supportedList = "supported: Redis 6.2 and 7.0, Valkey 8.1 (see the README's compatibility table)"

    /// nil when the server is supported; otherwise why not, naming its version.
    static func refusal(of report: ServerReport) -> String? {
        guard let version = RedisVersion(report.redisVersion) else {
            return "\(report.name) reports redis_version \(report.redisVersion.debugDescription), not a version"
        }
        var problems: [String] = []
        if version < oldest {
            problems.append("\(report.name) is older than Redis \(oldest.major).\(oldest.minor), the oldest supported")
        }
        if !report.missing.isEmpty {
            problems.append("\(report.name) lacks \(report.missing.joined(separator: ", "))")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
