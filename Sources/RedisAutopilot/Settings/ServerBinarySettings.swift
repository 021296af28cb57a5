/// Which programs run Redis and Sentinel: `REDIS_SERVER_BIN`,
/// `REDIS_SENTINEL_BIN`, and the `PATH` they are looked up in. Looking them up
/// is left to `ServerBinaryLocator`, when a command needs one: `health` and the
/// operator's commands must work on a host without them.
struct ServerBinarySettings: Sendable, Equatable {
    /// An absolute path, or names to look for on `PATH`, in order.
    enum Choice: Sendable, Equatable {
        case path(String)
        case search([String])
    }

    var server: Choice
    var sentinel: Choice
    /// `PATH`, split; empty entries dropped (they would mean the current directory).
    var searchPath: [String]

    static let serverNames = ["redis-server", "valkey-server"]
    static let sentinelNames = ["redis-sentinel", "valkey-sentinel"]

    init(server: Choice, sentinel: Choice, searchPath: [String]) {
        self.server = server
        self.sentinel = sentinel
        self.searchPath = searchPath
    }

    static func read(from reader: inout EnvironmentReader) -> ServerBinarySettings {
        ServerBinarySettings(
            server: reader.value("REDIS_SERVER_BIN", default: .search(serverNames), parseChoice),
            sentinel: reader.value("REDIS_SENTINEL_BIN", default: .search(sentinelNames), parseChoice),
            searchPath: (reader.text("PATH") ?? "").split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        )
    }

    /// `/opt/valkey/bin/valkey-server`, or a bare name looked up on PATH.
    static func parseChoice(_ text: String) throws(InvalidValue) -> Choice {
        let expected = "an absolute path to the program, or a program name to find on PATH"
        guard !text.containsControlCharacter, !text.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else {
            throw InvalidValue(expected: expected)
        }
        if text.hasPrefix("/") { return .path(text) }
        guard !text.contains("/") else { throw InvalidValue(expected: expected) }
        return .search([text])
    }
}
