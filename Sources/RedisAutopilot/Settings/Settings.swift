/// Everything `redis-manage` takes from its environment, validated. This is
/// the only place that reads environment variables: every other module is
/// handed the part it needs.
public struct Settings: Sendable, Equatable {
    var consul: ConsulSettings
    var redis: RedisSettings
    var sentinel: SentinelSettings
    var paths: PathSettings
    var binaries: ServerBinarySettings
    var backup: BackupSettings
    public var log: LogSettings
    var output: OutputSettings
    /// The secret values present (passwords, tokens, keys), for the logger to
    /// redact wherever they might slip into a line.
    public var secrets: [String]

    /// Pure: the caller passes the environment (`ProcessInfo`'s in the
    /// executable, a literal in tests). Throws every problem found at once.
    public static func load(from environment: [String: String]) throws -> Settings {
        try validated(environment)
    }

    static func validated(_ environment: [String: String]) throws(SettingsError) -> Settings {
        var reader = EnvironmentReader(environment)
        let settings = Settings(
            consul: ConsulSettings.read(from: &reader),
            redis: RedisSettings.read(from: &reader),
            sentinel: SentinelSettings.read(from: &reader),
            paths: PathSettings.read(from: &reader),
            binaries: ServerBinarySettings.read(from: &reader),
            backup: BackupSettings.read(from: &reader),
            log: LogSettings.read(from: &reader),
            output: OutputSettings.read(from: &reader),
            secrets: secretValues(in: reader)
        )
        if !reader.problems.isEmpty { throw SettingsError(problems: reader.problems) }
        return settings
    }

    private static func secretValues(in reader: EnvironmentReader) -> [String] {
        var values: [String] = []
        for name in EnvironmentReader.secretVariables.sorted() {
            guard let value = reader.text(name) else { continue }
            values.append(value)
            // The key may arrive with `#` for newlines; once converted, the
            // key text is different and must be hidden as well.
            if name == "MANTA_PRIVATE_KEY", value.contains("#") {
                values.append(value.replacingOccurrences(of: "#", with: "\n"))
            }
        }
        return values
    }
}
