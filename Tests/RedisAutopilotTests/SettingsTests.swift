import XCTest
@testable import RedisAutopilot

final class SettingsTests: XCTestCase {
    private func load(_ environment: [String: String], file: StaticString = #filePath, line: UInt = #line) throws -> Settings {
        do {
            return try Settings.load(from: environment)
        } catch {
            XCTFail("unexpected settings error: \(error)", file: file, line: line)
            throw error
        }
    }

    private func problems(_ environment: [String: String], file: StaticString = #filePath, line: UInt = #line) -> SettingsError? {
        do {
            let settings = try Settings.validated(environment)
            XCTFail("accepted \(environment) as \(settings)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private static let mantaKey = "-----BEGIN RSA PRIVATE KEY-----#MIIBOgIBAAJBAK#-----END RSA PRIVATE KEY-----"

    // MARK: defaults

    func testDefaultsWithAnEmptyEnvironment() throws {
        let settings = try load([:])
        XCTAssertEqual(settings.consul.server, try NodeAddress(host: "consul", port: 8301))
        XCTAssertEqual(settings.consul.httpAddress, HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 8500))
        XCTAssertNil(settings.consul.token)
        XCTAssertNil(settings.consul.localConfig)
        XCTAssertEqual(settings.consul.localConfigFile, "/etc/consul/local.json")
        XCTAssertEqual(settings.consul.agentDataDir, "/data/consul")
        XCTAssertEqual(settings.consul.trust, .system)
        XCTAssertEqual(settings.consul.requestTimeout, .seconds(5))
        XCTAssertEqual(settings.consul.leaderTimeout, .seconds(60))
        XCTAssertEqual(settings.consul.healthTTL, .seconds(25))

        XCTAssertEqual(settings.redis.port, 6379)
        XCTAssertEqual(settings.redis.bind, ["0.0.0.0"])
        XCTAssertNil(settings.redis.announceIP)
        XCTAssertEqual(settings.redis.announcePort, 6379)
        XCTAssertNil(settings.redis.username)
        XCTAssertNil(settings.redis.password)
        XCTAssertEqual(settings.redis.timeout, .seconds(5))
        XCTAssertEqual(settings.redis.masterWaitTimeout, .seconds(60))
        XCTAssertEqual(settings.redis.minReplicasToWrite, 0)
        XCTAssertEqual(settings.redis.minReplicasMaxLag, .seconds(10))

        XCTAssertEqual(settings.sentinel.port, 26379)
        XCTAssertEqual(settings.sentinel.announcePort, 26379)
        XCTAssertEqual(settings.sentinel.downAfter, .seconds(5))
        XCTAssertEqual(settings.sentinel.parallelSyncs, 1)
        XCTAssertEqual(settings.sentinel.failoverWaitTimeout, .seconds(20))

        XCTAssertEqual(settings.paths, PathSettings(
            dataDir: "/data", redisConf: "/etc/redis/redis.conf", sentinelConf: "/etc/redis/sentinel.conf", runDir: "/var/run/redis"
        ))

        XCTAssertEqual(settings.backup.interval, .seconds(24 * 3600))
        XCTAssertEqual(settings.backup.keep, 0)
        XCTAssertEqual(settings.backup.destination, .local(directory: "/var/backups/redis"))
        XCTAssertEqual(settings.backup.checkInterval, .seconds(600))
        XCTAssertEqual(settings.backup.saveTimeout, .seconds(570))
        XCTAssertEqual(settings.backup.restoreOnFailure, .fail)
        XCTAssertEqual(settings.backup.compressionLevel, 1)
        XCTAssertEqual(settings.backup.compressionThreads, ProcessInfo.processInfo.activeProcessorCount)

        XCTAssertEqual(settings.log, LogSettings(level: .info, format: .text))
        XCTAssertEqual(settings.secrets, [])
    }

    // MARK: good values

    func testAcceptsEveryVariableSetToAGoodValue() throws {
        let settings = try load([
            "CONSUL": "consul.svc:8301",
            "CONSUL_HTTP_ADDR": "https://10.1.2.3:8501",
            "CONSUL_HTTP_TOKEN": "acl-token",
            "CONSUL_LOCAL_CONFIG": #"{"datacenter": "dc2"}"#,
            "CONSUL_LOCAL_CONFIG_FILE": "/opt/consul/config/local.json",
            "CONSUL_DATA_DIR": "/var/lib/consul",
            "CONSUL_CACERT": "/etc/consul/tls/ca.pem",
            "CONSUL_TIMEOUT": "2500ms",
            "CONSUL_LEADER_TIMEOUT": "2m",
            "HEALTH_TTL": "15s",
            "LOG_LEVEL": "warning",
            "LOG_FORMAT": "JSON",
            "REDIS_PORT": "7000",
            "REDIS_BIND": "127.0.0.1, ::1",
            "REDIS_ANNOUNCE_IP": "192.168.1.20",
            "REDIS_ANNOUNCE_PORT": "17000",
            "REDIS_USERNAME": "autopilot",
            "REDIS_PASSWORD": "pass-word",
            "REDIS_TIMEOUT": "1s",
            "REDIS_DATA_DIR": "/tmp/node1/data",
            "REDIS_CONF": "/tmp/node1/redis.conf",
            "SENTINEL_CONF": "/tmp/node1/sentinel.conf",
            "REDIS_RUN_DIR": "/tmp/node1/run",
            "MASTER_WAIT_TIMEOUT": "90",
            "FAILOVER_WAIT_TIMEOUT": "45s",
            "SENTINEL_PORT": "27000",
            "SENTINEL_ANNOUNCE_PORT": "37000",
            "SENTINEL_DOWN_AFTER": "1500ms",
            "SENTINEL_PARALLEL_SYNCS": "2",
            "MIN_REPLICAS_TO_WRITE": "1",
            "MIN_REPLICAS_MAX_LAG": "1m",
            "BACKUP_TTL": "1h30m",
            "BACKUP_KEEP": "7",
            "BACKUP_COMPRESSION_LEVEL": "9",
            "BACKUP_COMPRESSION_THREADS": "3",
            "BACKUP_STORE": "local",
            "BACKUP_DIR": "/srv/backups",
            "BACKUP_SAVE_TIMEOUT": "20m",
            "BACKUP_CHECK_INTERVAL": "30m",
            "RESTORE_ON_FAILURE": "Empty",
        ])
        XCTAssertEqual(settings.consul.server, try NodeAddress(host: "consul.svc", port: 8301))
        XCTAssertEqual(settings.consul.httpAddress, HTTPBaseURL(scheme: .https, host: "10.1.2.3", port: 8501))
        XCTAssertEqual(settings.consul.token, "acl-token")
        XCTAssertEqual(settings.consul.localConfig, #"{"datacenter": "dc2"}"#)
        XCTAssertEqual(settings.consul.localConfigFile, "/opt/consul/config/local.json")
        XCTAssertEqual(settings.consul.agentDataDir, "/var/lib/consul")
        XCTAssertEqual(settings.consul.caFile, "/etc/consul/tls/ca.pem")
        XCTAssertEqual(settings.consul.trust, .caFile("/etc/consul/tls/ca.pem"))
        XCTAssertEqual(settings.consul.requestTimeout, .milliseconds(2500))
        XCTAssertEqual(settings.consul.leaderTimeout, .seconds(120))
        XCTAssertEqual(settings.consul.healthTTL, .seconds(15))
        XCTAssertEqual(settings.log, LogSettings(level: .warn, format: .json))
        XCTAssertEqual(settings.redis, RedisSettings(
            port: 7000, bind: ["127.0.0.1", "::1"], announceIP: "192.168.1.20", announcePort: 17000, username: "autopilot", password: "pass-word",
            timeout: .seconds(1), masterWaitTimeout: .seconds(90), minReplicasToWrite: 1, minReplicasMaxLag: .seconds(60)
        ))
        XCTAssertEqual(settings.sentinel, SentinelSettings(
            port: 27000, announcePort: 37000, downAfter: .milliseconds(1500), parallelSyncs: 2, failoverWaitTimeout: .seconds(45)
        ))
        XCTAssertEqual(settings.paths, PathSettings(
            dataDir: "/tmp/node1/data", redisConf: "/tmp/node1/redis.conf", sentinelConf: "/tmp/node1/sentinel.conf", runDir: "/tmp/node1/run"
        ))
        XCTAssertEqual(settings.backup, BackupSettings(
            interval: .seconds(5400), keep: 7, destination: .local(directory: "/srv/backups"), saveTimeout: .seconds(1200),
            checkInterval: .seconds(1800), restoreOnFailure: .empty, compressionLevel: 9, compressionThreads: 3
        ))
        XCTAssertEqual(Set(settings.secrets), ["acl-token", "pass-word"])
    }

    func testServersRunAsAUserByName() throws {
        XCTAssertEqual(try load([:]).redis.runAs, "redis")
        XCTAssertEqual(try load(["REDIS_RUN_AS": "valkey"]).redis.runAs, "valkey")
        let bad = "\(problems(["REDIS_RUN_AS": "red is"]).map { "\($0)" } ?? "")"
        XCTAssertTrue(bad.contains("REDIS_RUN_AS") && bad.contains("a user name"), bad)
    }

    func testABackupMustEndBeforeContainerPilotKillsItsJob() throws {
        XCTAssertEqual(try load(["BACKUP_CHECK_INTERVAL": "1h"]).backup.saveTimeout, .seconds(3570))
        let tooLong = "\(problems(["BACKUP_SAVE_TIMEOUT": "1h"]).map { "\($0)" } ?? "")"
        XCTAssertTrue(tooLong.contains("BACKUP_SAVE_TIMEOUT") && tooLong.contains("BACKUP_CHECK_INTERVAL"), tooLong)
        let tooOften = "\(problems(["BACKUP_CHECK_INTERVAL": "30s"]).map { "\($0)" } ?? "")"
        XCTAssertTrue(tooOften.contains("BACKUP_CHECK_INTERVAL"), tooOften)
    }

    func testAnnouncePortsFollowTheirPorts() throws {
        let settings = try load(["REDIS_PORT": "7001", "SENTINEL_PORT": "27001"])
        XCTAssertEqual(settings.redis.announcePort, 7001)
        XCTAssertEqual(settings.sentinel.announcePort, 27001)
    }

    func testLogLevelsAreCaseInsensitive() throws {
        let table: [(String, LogLevel)] = [("debug", .debug), ("Info", .info), ("WARN", .warn), ("warning", .warn), ("ERROR", .error)]
        for (text, level) in table {
            XCTAssertEqual(try load(["LOG_LEVEL": text]).log.level, level, text)
        }
    }

    func testEmptyValuesCountAsUnsetAndWhitespaceIsTrimmed() throws {
        let settings = try load(["REDIS_PORT": " 7002\n", "CONSUL": "", "LOG_LEVEL": "  ", "REDIS_PASSWORD": ""])
        XCTAssertEqual(settings.redis.port, 7002)
        XCTAssertEqual(settings.consul.server.host, "consul")
        XCTAssertEqual(settings.log.level, .info)
        XCTAssertNil(settings.redis.password)
        XCTAssertEqual(settings.secrets, [])
    }

    func testConsulAddressForms() throws {
        let table: [(String, HTTPBaseURL)] = [
            ("127.0.0.1:8500", HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 8500)),
            ("consul-agent:8500", HTTPBaseURL(scheme: .http, host: "consul-agent", port: 8500)),
            ("http://localhost:18500", HTTPBaseURL(scheme: .http, host: "localhost", port: 18500)),
            ("HTTPS://consul.example.com:8501/", HTTPBaseURL(scheme: .https, host: "consul.example.com", port: 8501)),
            ("https://consul.example.com", HTTPBaseURL(scheme: .https, host: "consul.example.com", port: 443)),
            ("http://[::1]:8500", HTTPBaseURL(scheme: .http, host: "::1", port: 8500)),
            ("[::1]:8500", HTTPBaseURL(scheme: .http, host: "::1", port: 8500)),
            ("consul", HTTPBaseURL(scheme: .http, host: "consul", port: 80)),
        ]
        for (text, endpoint) in table {
            XCTAssertEqual(try load(["CONSUL_HTTP_ADDR": text]).consul.httpAddress, endpoint, text)
        }
        XCTAssertEqual(HTTPBaseURL(scheme: .http, host: "::1", port: 8500).description, "http://[::1]:8500")
        XCTAssertEqual(HTTPBaseURL(scheme: .https, host: "h", port: 443).hostHeader, "h")
        XCTAssertEqual(try load(["CONSUL": "[fd00::1]:8302"]).consul.server, try NodeAddress(host: "fd00::1", port: 8302))
        XCTAssertEqual(try load(["CONSUL": "10.0.0.2"]).consul.server, try NodeAddress(host: "10.0.0.2", port: 8301))
    }

    func testMantaAndS3URLsTakeIPv6LiteralsAndATrailingSlash() throws {
        XCTAssertEqual(try load(["MANTA_URL": "https://[fd00::7]:8443/"]).backup.destination, .local(directory: "/var/backups/redis"))
        let settings = try load([
            "MANTA_URL": "https://[fd00::7]:8443/", "MANTA_USER": "acme", "MANTA_PRIVATE_KEY": SettingsTests.mantaKey,
        ])
        guard case .manta(let manta) = settings.backup.destination else { return XCTFail("\(settings.backup.destination)") }
        XCTAssertEqual(manta.url, HTTPBaseURL(scheme: .https, host: "fd00::7", port: 8443))
        let s3 = try load(["S3_BUCKET": "bkt", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL_S3": "HTTP://[::1]:9000/"])
        guard case .s3(let store) = s3.backup.destination else { return XCTFail("\(s3.backup.destination)") }
        XCTAssertEqual(store.endpoint, HTTPBaseURL(scheme: .http, host: "::1", port: 9000))
    }

    /// Net's `HTTPBaseURL` parses these addresses and the settings add their
    /// own rules on top; either way a bad value is a settings problem that
    /// names the variable, repeats the value and says what was wrong.
    func testMalformedHTTPAddressesAreRefusedWithTheReason() throws {
        let cases: [(String, String, String)] = [
            ("CONSUL_HTTP_ADDR", "[::1", #"invalid host "[::1""#),
            ("CONSUL_HTTP_ADDR", "[::1]x:8500", "invalid host"),
            ("CONSUL_HTTP_ADDR", "[::1]:", #"invalid port """#),
            ("CONSUL_HTTP_ADDR", "[1.2.3.4]:8500", #"invalid host "1.2.3.4""#),
            ("CONSUL_HTTP_ADDR", "[nothex]:8500", "invalid host"),
            ("CONSUL_HTTP_ADDR", "http://", "has no host"),
            ("CONSUL_HTTP_ADDR", "https://", "has no host"),
            ("CONSUL_HTTP_ADDR", ":8500", "has no host"),
            ("CONSUL_HTTP_ADDR", "consul:0", #"invalid port "0""#),
            ("CONSUL_HTTP_ADDR", "consul:65536", #"invalid port "65536""#),
            ("CONSUL_HTTP_ADDR", "consul:http", #"invalid port "http""#),
            ("CONSUL_HTTP_ADDR", "consul:99999999999999999999", "invalid port"),
            ("CONSUL_HTTP_ADDR", "ftp://x", #"unsupported scheme "ftp""#),
            ("CONSUL_HTTP_ADDR", "http://con sul:8500", "contains whitespace"),
            ("CONSUL_HTTP_ADDR", "http://consul:8500/v1", #"the path "/v1" is not allowed"#),
            ("CONSUL_HTTP_ADDR", "http://consul:8500?dc=dc1", "must not contain a query"),
            ("CONSUL_HTTP_ADDR", "999.1.1.1:8500", #""999.1.1.1" is neither a DNS name nor an IP address"#),
            ("CONSUL_HTTP_ADDR", "consul..svc", "is neither a DNS name nor an IP address"),
            ("CONSUL_HTTP_ADDR", "consul-:8500", "is neither a DNS name nor an IP address"),
            ("MANTA_URL", "[::1]:8500", "the scheme is missing"),
            ("MANTA_URL", "us-east.manta.joyent.com", "the scheme is missing"),
            ("MANTA_URL", "https://", "has no host"),
            ("MANTA_URL", "https://manta:0", #"invalid port "0""#),
            ("MANTA_URL", "https://manta.example.com/alice/stor", #"the path "/alice/stor" is not allowed"#),
            ("MANTA_URL", "https://manta example.com", "contains whitespace"),
            ("AWS_ENDPOINT_URL_S3", "localhost:9000", "the scheme is missing"),
            ("AWS_ENDPOINT_URL_S3", "http://minio.local:9000/s3/", #"the path "/s3" is not allowed"#),
            ("AWS_ENDPOINT_URL_S3", "ftp://x", #"unsupported scheme "ftp""#),
            ("AWS_ENDPOINT_URL_S3", "http://[::1]:port", #"invalid port "port""#),
            ("AWS_ENDPOINT_URL_S3", "http://:9000", "has no host"),
        ]
        for (variable, value, reason) in cases {
            let error = try XCTUnwrap(problems([variable: value]), "\(variable)=\(value)")
            XCTAssertEqual(error.problems.map(\.variable), [variable], "\(variable)=\(value): \(error)")
            let problem = try XCTUnwrap(error.problem(for: variable))
            XCTAssertEqual(problem.kind, .invalid(value: value), "\(variable)=\(value)")
            XCTAssertTrue(problem.expected.contains(reason), "\(variable)=\(value): \(problem)")
        }
        XCTAssertEqual(
            problems(["CONSUL_HTTP_ADDR": "http://consul:8500/v1"])?.description,
            """
            invalid setting in the environment:
              CONSUL_HTTP_ADDR="http://consul:8500/v1": expected host:port, http://host:port or https://host:port: the path "/v1" is not allowed
            """
        )
        XCTAssertEqual(
            problems(["MANTA_URL": "ftp://x"])?.problem(for: "MANTA_URL")?.expected,
            #"an http:// or https:// URL with a host and an optional port, without a path: unsupported scheme "ftp" (expected http or https)"#
        )
    }

    func testAnnounceIPAcceptsIPv6() throws {
        XCTAssertEqual(try load(["REDIS_ANNOUNCE_IP": "fd00::5"]).redis.announceIP, "fd00::5")
    }

    func testMasterWaitTimeoutKeepsBareSecondsAndAcceptsZero() throws {
        XCTAssertEqual(try load(["MASTER_WAIT_TIMEOUT": "120"]).redis.masterWaitTimeout, .seconds(120))
        XCTAssertEqual(try load(["MASTER_WAIT_TIMEOUT": "0"]).redis.masterWaitTimeout, .zero)
    }

    // MARK: backup stores

    func testAutoStoreIsLocalWithoutCredentials() throws {
        XCTAssertEqual(try load(["BACKUP_DIR": "/b"]).backup.destination, .local(directory: "/b"))
    }

    func testAutoStoreChoosesMantaWhenMantaUserIsSet() throws {
        let settings = try load(["MANTA_USER": "acme", "MANTA_PRIVATE_KEY": SettingsTests.mantaKey])
        guard case .manta(let manta) = settings.backup.destination else { return XCTFail("\(settings.backup.destination)") }
        XCTAssertEqual(manta.user, "acme")
        XCTAssertEqual(manta.url, HTTPBaseURL(scheme: .https, host: "us-east.manta.joyent.com", port: 443))
        XCTAssertEqual(manta.bucket, "/acme/stor/triton-redis")
        XCTAssertNil(manta.subuser)
        XCTAssertEqual(manta.roles, [])
        XCTAssertNil(manta.keyID)
        XCTAssertEqual(manta.privateKey, SettingsTests.mantaKey, "kept raw: the key parser converts #")
        XCTAssertEqual(Set(settings.secrets), [SettingsTests.mantaKey, SettingsTests.mantaKey.replacingOccurrences(of: "#", with: "\n")])
    }

    func testMantaSettingsInFull() throws {
        let settings = try load([
            "MANTA_URL": "https://manta.example.com:8443",
            "MANTA_USER": "acme",
            "MANTA_SUBUSER": "backup-bot",
            "MANTA_ROLE": "ops, backups ,",
            "MANTA_KEY_ID": "B4:FD:FA:E0:39:99:73:63:CA:8B:E0:FA:46:F3:F2:38",
            "MANTA_PRIVATE_KEY": SettingsTests.mantaKey,
            "MANTA_BUCKET": "/acme/stor/redis/",
        ])
        guard case .manta(let manta) = settings.backup.destination else { return XCTFail("\(settings.backup.destination)") }
        XCTAssertEqual(manta.url, HTTPBaseURL(scheme: .https, host: "manta.example.com", port: 8443))
        XCTAssertEqual(manta.subuser, "backup-bot")
        XCTAssertEqual(manta.roles, ["ops", "backups"])
        XCTAssertEqual(manta.keyID?.description, "b4:fd:fa:e0:39:99:73:63:ca:8b:e0:fa:46:f3:f2:38")
        XCTAssertEqual(manta.bucket, "/acme/stor/redis")
    }

    func testMantaKeyIDForms() throws {
        let sha = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        XCTAssertEqual(try load(["MANTA_KEY_ID": sha]).backup.destination, .local(directory: "/var/backups/redis"))
        XCTAssertEqual(try MantaKeyID.parse(sha).description, sha)
        guard case .sha256(let bytes) = try MantaKeyID.parse(sha) else { return XCTFail("not sha256") }
        XCTAssertEqual(bytes.count, 32)
        XCTAssertEqual(try MantaKeyID.parse("MD5:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff").description, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff")
    }

    func testAutoStoreChoosesS3WhenBucketIsSetEvenWithMantaUser() throws {
        let settings = try load([
            "S3_BUCKET": "redis-backups",
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "MANTA_USER": "acme",
        ])
        guard case .s3(let s3) = settings.backup.destination else { return XCTFail("\(settings.backup.destination)") }
        XCTAssertEqual(s3, S3Settings(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: nil,
            region: "us-east-1", endpoint: nil, bucket: "redis-backups", prefix: "", addressingStyle: .virtual, partSize: 16 << 20
        ))
        XCTAssertEqual(settings.secrets, ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"])
    }

    func testS3SettingsInFull() throws {
        let settings = try load([
            "BACKUP_STORE": "S3",
            "S3_BUCKET": "my.bucket-1",
            "S3_PREFIX": "redis/prod/",
            "S3_PART_SIZE": "64M",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": "session",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000",
        ])
        guard case .s3(let s3) = settings.backup.destination else { return XCTFail("\(settings.backup.destination)") }
        XCTAssertEqual(s3.region, "eu-west-1")
        XCTAssertEqual(s3.endpoint, HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: 5000))
        XCTAssertEqual(s3.addressingStyle, .path, "auto is path style with a custom endpoint")
        XCTAssertEqual(s3.prefix, "redis/prod/")
        XCTAssertEqual(s3.partSize, 64 << 20)
        XCTAssertEqual(s3.sessionToken, "session")
        XCTAssertEqual(Set(settings.secrets), ["secret", "session"])
    }

    func testAWSRegionWinsOverDefaultRegion() throws {
        let base = ["S3_BUCKET": "bkt", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]
        let settings = try load(base.merging(["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "eu-west-1"]) { $1 })
        guard case .s3(let s3) = settings.backup.destination else { return XCTFail() }
        XCTAssertEqual(s3.region, "ap-south-1")
    }

    func testS3AddressingStyleAndPartSizes() throws {
        let base = ["S3_BUCKET": "bkt", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]
        let table: [([String: String], S3AddressingStyle, Int)] = [
            (["S3_ADDRESSING_STYLE": "virtual", "AWS_ENDPOINT_URL_S3": "https://minio.local"], .virtual, 16 << 20),
            (["S3_ADDRESSING_STYLE": "path", "S3_PART_SIZE": "5MiB"], .path, 5 << 20),
            (["S3_ADDRESSING_STYLE": "auto", "S3_PART_SIZE": "5242880"], .virtual, 5 << 20),
            (["S3_PART_SIZE": "1GiB"], .virtual, 1 << 30),
            (["S3_PART_SIZE": "5g"], .virtual, 5 << 30),
            (["S3_PART_SIZE": "8192k"], .virtual, 8 << 20),
        ]
        for (extra, style, partSize) in table {
            let settings = try load(base.merging(extra) { $1 })
            guard case .s3(let s3) = settings.backup.destination else { return XCTFail() }
            XCTAssertEqual(s3.addressingStyle, style, "\(extra)")
            XCTAssertEqual(s3.partSize, partSize, "\(extra)")
        }
    }

    func testExplicitLocalStoreIgnoresCredentials() throws {
        let settings = try load(["BACKUP_STORE": "local", "S3_BUCKET": "bkt", "MANTA_USER": "acme"])
        XCTAssertEqual(settings.backup.destination, .local(directory: "/var/backups/redis"))
    }

    func testChosenStoreRequiresItsCredentials() {
        let cases: [([String: String], Set<String>, String)] = [
            (["BACKUP_STORE": "manta"], ["MANTA_USER", "MANTA_PRIVATE_KEY"], "BACKUP_STORE=manta"),
            (["MANTA_USER": "acme"], ["MANTA_PRIVATE_KEY"], "MANTA_USER is set"),
            (["BACKUP_STORE": "s3"], ["S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], "BACKUP_STORE=s3"),
            (["S3_BUCKET": "bkt", "AWS_ACCESS_KEY_ID": "a"], ["AWS_SECRET_ACCESS_KEY"], "S3_BUCKET is set"),
        ]
        for (environment, missing, reason) in cases {
            guard let error = problems(environment) else { continue }
            XCTAssertEqual(Set(error.problems.map(\.variable)), missing, "\(environment)")
            for problem in error.problems {
                XCTAssertEqual(problem.kind, .missing)
                XCTAssertTrue(problem.description.contains(reason), problem.description)
            }
        }
    }

    // MARK: bad values

    /// Every variable with values it must refuse.
    static let badValues: [(String, [String])] = [
        ("CONSUL", ["host:port:extra", "bad host", "consul:0", "consul:http", "[::1", "999.1.1.1", "-consul"]),
        ("CONSUL_HTTP_ADDR", ["ftp://x:1", "http://host:0", "http://host:70000", "http://:8500", "http://host/v1", "unix:///tmp/consul.sock", "a:b:c"]),
        ("CONSUL_LOCAL_CONFIG_FILE", ["local.json"]),
        ("CONSUL_DATA_DIR", ["consul", "./data/consul"]),
        ("CONSUL_CACERT", ["ca.pem", "~/ca.pem"]),
        ("CONSUL_TIMEOUT", ["24x", "0s", "5"+"sec"]),
        ("CONSUL_LEADER_TIMEOUT", ["-1s", "1.5.3s"]),
        ("HEALTH_TTL", ["500ms", "s"]),
        ("LOG_LEVEL", ["verbose", "trace"]),
        ("LOG_FORMAT", ["xml"]),
        ("REDIS_PORT", ["abc", "0", "65536", "+5", "-1", "6379.0", "99999999999999999999999"]),
        ("REDIS_BIND", ["localhost", "127.0.0.1 10.0.0.300", ",,"]),
        ("REDIS_ANNOUNCE_IP", ["10.0.0.300", "myhost", "1.2.3"]),
        ("REDIS_ANNOUNCE_PORT", ["x"]),
        ("REDIS_USERNAME", ["two words", "quo\"te"]),
        ("REDIS_TIMEOUT", ["1.5.3s", "0"]),
        ("REDIS_DATA_DIR", ["data"]),
        ("REDIS_CONF", ["redis.conf"]),
        ("SENTINEL_CONF", ["./sentinel.conf"]),
        ("REDIS_RUN_DIR", ["run"]),
        ("MASTER_WAIT_TIMEOUT", ["s", "-5", "24x", "9999999999999999999999"]),
        ("FAILOVER_WAIT_TIMEOUT", ["soon"]),
        ("SENTINEL_PORT", ["99999"]),
        ("SENTINEL_ANNOUNCE_PORT", ["0"]),
        ("SENTINEL_DOWN_AFTER", ["1500us", "0ms"]),
        ("SENTINEL_PARALLEL_SYNCS", ["0", "one"]),
        ("MIN_REPLICAS_TO_WRITE", ["-1", "many"]),
        ("MIN_REPLICAS_MAX_LAG", ["1500ms", "0s"]),
        ("BACKUP_TTL", ["99999999999h", "1d", "0"]),
        ("BACKUP_KEEP", ["-2", "all"]),
        ("BACKUP_COMPRESSION_LEVEL", ["0", "10", "fast", "1.5"]),
        ("BACKUP_COMPRESSION_THREADS", ["0", "-1", "257", "all"]),
        ("BACKUP_STORE", ["ftp"]),
        ("BACKUP_DIR", ["backups"]),
        ("BACKUP_SAVE_TIMEOUT", ["1d"]),
        ("RESTORE_ON_FAILURE", ["ignore"]),
        ("MANTA_URL", ["us-east.manta.joyent.com", "https://host/path", "ftp://host"]),
        ("MANTA_USER", ["bad/user", "a b"]),
        ("MANTA_SUBUSER", ["a b"]),
        ("MANTA_ROLE", ["ops,bad role", "ops,a/b"]),
        ("MANTA_KEY_ID", ["aa:bb", "SHA256:short", "zz:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", "b4fdfae0399973 63ca8be0fa46f3f238", "SHA256:!!!!"]),
        ("MANTA_BUCKET", ["stor/x", "/"]),
        ("AWS_ACCESS_KEY_ID", ["AKIA EXAMPLE"]),
        ("AWS_REGION", ["US-EAST-1"]),
        ("AWS_DEFAULT_REGION", ["eu west"]),
        ("AWS_ENDPOINT_URL_S3", ["localhost:9000", "https://s3.local/path"]),
        ("S3_BUCKET", ["UpperCase", "ab", "-bucket", "bucket_name"]),
        ("S3_PREFIX", ["a\u{01}b"]),
        ("S3_ADDRESSING_STYLE", ["dns"]),
        ("S3_PART_SIZE", ["1MiB", "16XB", "6GiB", "99999999999999999999G", "M", "-16M"]),
    ]

    func testEachBadValueIsReportedUnderItsVariableWithTheValue() {
        for (variable, values) in SettingsTests.badValues {
            for value in values {
                guard let error = problems([variable: value]) else { continue }
                let invalid = error.problems.filter { if case .invalid = $0.kind { return true } else { return false } }
                XCTAssertEqual(invalid.map(\.variable), [variable], "\(variable)=\(value): \(error)")
                XCTAssertEqual(invalid.first?.kind, .invalid(value: value), "\(variable)=\(value)")
                XCTAssertFalse(invalid.first?.expected.isEmpty ?? true)
                XCTAssertTrue(error.description.contains("\(variable)="), error.description)
            }
        }
    }

    func testEveryProblemIsCollectedInOneError() throws {
        let environment = [
            "REDIS_PORT": "abc", "CONSUL_TIMEOUT": "24x", "LOG_LEVEL": "loud", "BACKUP_STORE": "s3", "MANTA_KEY_ID": "zz",
        ]
        let error = try XCTUnwrap(problems(environment))
        XCTAssertEqual(
            Set(error.problems.map(\.variable)),
            ["REDIS_PORT", "CONSUL_TIMEOUT", "LOG_LEVEL", "MANTA_KEY_ID", "S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        )
        XCTAssertEqual(error.description.split(separator: "\n").count, error.problems.count + 1)
        XCTAssertEqual(error.problem(for: "REDIS_PORT")?.description, #"REDIS_PORT="abc": expected a port number from 1 to 65535"#)
    }

    func testOverlongValuesAreShortenedAndControlCharactersEscapedInTheReport() throws {
        let error = try XCTUnwrap(problems(["REDIS_DATA_DIR": "data\n" + String(repeating: "x", count: 500)]))
        let line = error.problems[0].description
        XCTAssertFalse(line.contains("\n"))
        XCTAssertTrue(line.contains(#"data\n"#), line)
        XCTAssertLessThan(line.count, 300)
    }

    // MARK: secrets

    func testBadSecretsAreReportedWithoutTheirValues() throws {
        let secrets = [
            "CONSUL_HTTP_TOKEN": "tok\nen-s3cr3t",
            "REDIS_PASSWORD": "pa\u{07}ss-s3cr3t",
            "MANTA_PRIVATE_KEY": "not-a-key-s3cr3t",
            "AWS_SECRET_ACCESS_KEY": "sec\tret-s3cr3t",
            "AWS_SESSION_TOKEN": "tok\u{1B}en-s3cr3t",
        ]
        let error = try XCTUnwrap(problems(secrets))
        XCTAssertEqual(Set(error.problems.filter { $0.kind == .hiddenValue }.map(\.variable)), Set(secrets.keys))
        XCTAssertFalse(error.description.contains("s3cr3t"), error.description)
    }

    /// Sentinel writes auth-pass back to sentinel.conf unquoted: a password
    /// with a space or a quote would keep it from starting again.
    func testPasswordsSentinelCannotWriteBackAreRefusedWithoutTheirValues() throws {
        for password in ["pass word-s3cr3t", "it's-s3cr3t", "say\"s3cr3t\"", "caf\u{e9}-s3cr3t"] {
            let error = try XCTUnwrap(problems(["REDIS_PASSWORD": password]), password)
            XCTAssertEqual(error.problems.map(\.variable), ["REDIS_PASSWORD"])
            XCTAssertTrue(error.description.contains("without spaces or quotes"), error.description)
            XCTAssertFalse(error.description.contains("s3cr3t"), error.description)
        }
        XCTAssertEqual(try load(["REDIS_PASSWORD": #"p4\ss#w0rd!"#]).redis.password, #"p4\ss#w0rd!"#)
    }

    func testURLsWithCredentialsAreRefusedWithoutTheirValues() throws {
        let urls = [
            "MANTA_URL": "https://alice:s3cr3t@us-east.manta.joyent.com",
            "CONSUL_HTTP_ADDR": "http://token-s3cr3t@127.0.0.1:8500",
            "AWS_ENDPOINT_URL_S3": "https://key:s3cr3t@s3.example.com/",
        ]
        let error = try XCTUnwrap(problems(urls.merging(["BACKUP_STORE": "s3", "S3_BUCKET": "b", "AWS_ACCESS_KEY_ID": "a",
                                                         "AWS_SECRET_ACCESS_KEY": "b"]) { $1 }))
        XCTAssertEqual(Set(error.problems.filter { $0.kind == .hiddenValue }.map(\.variable)), Set(urls.keys), error.description)
        XCTAssertFalse(error.description.contains("s3cr3t"), error.description)
        let userOnly = try XCTUnwrap(problems(["CONSUL_HTTP_ADDR": "http://user@consul:8500"]))
        XCTAssertEqual(userOnly.problems, [SettingsProblem(variable: "CONSUL_HTTP_ADDR", kind: .hiddenValue,
                                                           expected: "host:port, http://host:port or https://host:port: HTTP address must not contain user:password@")])
        let echoed = try XCTUnwrap(problems(["MANTA_URL": "ftp://host/a@b"]))
        XCTAssertEqual(echoed.problems.map(\.kind), [.invalid(value: "ftp://host/a@b")])
    }

    func testLocalConsulConfigIsNotEchoedBecauseItMayHoldKeys() throws {
        for value in ["[1, 2]", "{\"encrypt\": \"gossip-s3cr3t\"", "\"text\""] {
            let error = try XCTUnwrap(problems(["CONSUL_LOCAL_CONFIG": value]))
            XCTAssertEqual(error.problems, [SettingsProblem(variable: "CONSUL_LOCAL_CONFIG", kind: .hiddenValue, expected: "a JSON object ({...})")])
            XCTAssertFalse(error.description.contains("s3cr3t"))
        }
        XCTAssertEqual(try load(["CONSUL_LOCAL_CONFIG": #"{"encrypt": "k"}"#]).secrets, [])
    }

    func testGoodSecretsStayOutOfOtherErrors() throws {
        let environment = [
            "REDIS_PASSWORD": "p4ssw0rd-s3cr3t", "CONSUL_HTTP_TOKEN": "t0ken-s3cr3t", "AWS_SECRET_ACCESS_KEY": "aws-s3cr3t",
            "BACKUP_STORE": "s3", "REDIS_PORT": "p4ssw0rd",
        ]
        let error = try XCTUnwrap(problems(environment))
        XCTAssertFalse(error.description.contains("s3cr3t"), error.description)
        XCTAssertTrue(error.description.contains("REDIS_PORT"))
    }

    func testSecretsListsEveryPresentSecretValue() throws {
        let settings = try load([
            "CONSUL_HTTP_TOKEN": "t", "REDIS_PASSWORD": "p", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "st",
            "MANTA_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
        ])
        XCTAssertEqual(Set(settings.secrets), ["t", "p", "s", "st", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"])
    }

    // MARK: documentation

    func testReadmeDocumentsEveryVariable() throws {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let documented = Set(SettingsTests.badValues.map(\.0)).union(EnvironmentReader.unechoedVariables)
        for variable in documented {
            XCTAssertTrue(text.contains("| `\(variable)` |"), "README.md has no table row for \(variable)")
        }
    }
}
