/// How this node reaches Consul: the server its local agent joins and the
/// agent's HTTP API that `redis-manage` talks to.
struct ConsulSettings: Sendable, Equatable {
    /// `CONSUL`: the server address the local agent joins (Serf's LAN port
    /// 8301 when the value has none).
    var server: NodeAddress
    /// `CONSUL_HTTP_ADDR`: the local agent's HTTP API.
    var httpAddress: HTTPBaseURL
    /// `CONSUL_HTTP_TOKEN`: ACL token sent with every request (secret).
    var token: String?
    /// `CONSUL_CACERT`: the CA that signed an https agent's certificate, as
    /// the consul command reads it; nil trusts the system's CAs.
    var caFile: String?
    /// `CONSUL_LOCAL_CONFIG`: JSON object written by preStart, verbatim.
    var localConfig: String?
    /// `CONSUL_LOCAL_CONFIG_FILE`: where preStart writes it.
    var localConfigFile: String
    /// `CONSUL_DATA_DIR`: the local agent's `-data-dir`, where it keeps the
    /// registrations and TTL check statuses it restores when it starts again.
    var agentDataDir: String
    /// `CONSUL_TIMEOUT`: bound on each HTTP call.
    var requestTimeout: Duration
    /// `CONSUL_LEADER_TIMEOUT`: how long onStart waits for a cluster leader.
    var leaderTimeout: Duration
    /// `HEALTH_TTL`: TTL of the check on the `redis` / `redis-replica` service.
    var healthTTL: Duration

    // A literal that is a valid address: it cannot throw.
    static let defaultServer = try! NodeAddress(host: "consul", port: NetworkAddressText.serfLANPort)

    static func read(from reader: inout EnvironmentReader) -> ConsulSettings {
        ConsulSettings(
            server: reader.value("CONSUL", default: ConsulSettings.defaultServer) { text throws(InvalidValue) in
                try NetworkAddressText.consulServer(text)
            },
            httpAddress: reader.value("CONSUL_HTTP_ADDR", default: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 8500)) { text throws(InvalidValue) in
                try NetworkAddressText.httpBaseURL(text, allowsBareHostPort: true)
            },
            token: reader.optional("CONSUL_HTTP_TOKEN") { text throws(InvalidValue) in
                try ValueParsers.printable(text, what: "an ACL token")
            },
            caFile: reader.optional("CONSUL_CACERT", ValueParsers.absolutePath),
            localConfig: reader.optional("CONSUL_LOCAL_CONFIG", ValueParsers.jsonObject),
            localConfigFile: reader.value("CONSUL_LOCAL_CONFIG_FILE", default: "/etc/consul/local.json", ValueParsers.absolutePath),
            agentDataDir: reader.value("CONSUL_DATA_DIR", default: "/data/consul", ValueParsers.absolutePath),
            requestTimeout: reader.value("CONSUL_TIMEOUT", default: .seconds(5)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .milliseconds(1))
            },
            leaderTimeout: reader.value("CONSUL_LEADER_TIMEOUT", default: .seconds(60)) { text throws(InvalidValue) in
                try ValueParsers.duration(text, minimum: .milliseconds(1))
            },
            healthTTL: reader.value("HEALTH_TTL", default: .seconds(25)) { text throws(InvalidValue) in
                // The check has to outlive the gap between two health runs; under a second it never could.
                try ValueParsers.duration(text, minimum: .seconds(1))
            }
        )
    }
}

extension ConsulSettings {
    /// Whom an https agent's certificate must chain to.
    var trust: TLSTrust {
        caFile.map(TLSTrust.caFile) ?? .system
    }
}
