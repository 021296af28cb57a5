import XCTest
@testable import RedisAutopilot

final class ConfWriterTests: XCTestCase {
    let me = try! NodeAddress(host: "10.0.0.1", port: 6379)
    let master = try! NodeAddress(host: "10.0.0.2", port: 6379)

    private func redisInput(replicaOf: NodeAddress?, password: String? = nil, username: String? = nil,
                            minReplicas: Int = 0) -> RedisConfInput {
        RedisConfInput(port: 6379, bind: ["0.0.0.0"], dataDirectory: "/data", announce: me, replicaOf: replicaOf,
                       password: password, username: username, minReplicasToWrite: minReplicas,
                       minReplicasMaxLagSeconds: 10)
    }

    /// The file as Redis reads it back, one line per directive, each argument
    /// as Redis sees it (quotes removed).
    private func lines(_ text: String) -> [String] {
        guard let directives = RedisConfSyntax.parse(text) else {
            XCTFail("Redis would refuse this file:\n\(text)")
            return []
        }
        return directives.map { $0.joined(separator: " ") }
    }

    func testReplicaConfig() throws {
        let text = try RedisConfWriter.render(redisInput(replicaOf: master))
        let l = lines(text)
        XCTAssertTrue(l.contains("replicaof 10.0.0.2 6379"), text)
        XCTAssertTrue(text.contains(#"replicaof "10.0.0.2" 6379"#), text)
        XCTAssertTrue(l.contains("replica-announce-ip 10.0.0.1"))
        XCTAssertTrue(l.contains("replica-announce-port 6379"))
        XCTAssertTrue(l.contains("appendonly yes"))
        XCTAssertTrue(l.contains("protected-mode no"))
        XCTAssertTrue(l.contains("logfile "), text)
        XCTAssertFalse(text.contains("slaveof"))
        XCTAssertFalse(text.contains("requirepass"))
    }

    func testMinReplicasToWrite() throws {
        let l = lines(try RedisConfWriter.render(redisInput(replicaOf: master, minReplicas: 1)))
        XCTAssertTrue(l.contains("min-replicas-to-write 1"))
        XCTAssertTrue(l.contains("min-replicas-max-lag 10"))
    }

    func testMasterHasNoReplicationLine() throws {
        let text = try RedisConfWriter.render(redisInput(replicaOf: nil))
        XCTAssertFalse(text.contains("replicaof"))
        XCTAssertFalse(text.contains("min-replicas"))
    }

    func testPasswordIsQuotedAndProtectedModeOn() throws {
        let text = try RedisConfWriter.render(redisInput(replicaOf: master, password: "p a\"ss#\\w", username: "app"))
        let l = lines(text)
        XCTAssertTrue(text.contains(#"requirepass "p a\"ss#\\w""#), text)
        XCTAssertTrue(l.contains(#"requirepass p a"ss#\w"#), text)
        XCTAssertTrue(l.contains(#"masterauth p a"ss#\w"#), text)
        XCTAssertTrue(l.contains("masteruser app"), text)
        XCTAssertTrue(l.contains("protected-mode yes"))
    }

    func testQuotingEscapesControlAndNonASCIIBytes() {
        XCTAssertEqual(RedisConfSyntax.quote("a\nb\u{1}é"), #""a\nb\x01\xc3\xa9""#)
        XCTAssertEqual(RedisConfSyntax.split(ArraySlice(#"a "b\x41\n" 'c\'d' e"f g" "#.utf8))?.map { String(decoding: $0, as: UTF8.self) },
                       ["a", "bA\n", "c'd", "ef g"])
        XCTAssertNil(RedisConfSyntax.split(ArraySlice(#"a "b"c"#.utf8)), "a closing quote must end the word")
        XCTAssertNil(RedisConfSyntax.split(ArraySlice(#"a "b"#.utf8)), "unbalanced quotes")
    }

    /// Issue 12, finding 1: an address from Consul or Sentinel went into the
    /// files unquoted and unchecked, so a host with newlines wrote directives.
    /// Such a host cannot become a NodeAddress, and every value written is
    /// quoted, so no value can add a line.
    func testAnInjectedHostCannotBecomeAnAddressAndQuotedValuesStayOneArgument() throws {
        let injected = "10.9.9.9 6379\ndir /etc/cron.d\ndbfilename pwn\n#"
        XCTAssertThrowsError(try NodeAddress(host: injected, port: 6379)) { error in
            XCTAssertEqual(error as? NodeAddressError, .invalidHost(#"10.9.9.9 6379\x0Adir /etc/cron.d\x0Adbfilename pwn\x0A#"#))
        }
        var input = redisInput(replicaOf: master, password: "pw\ndir /etc/cron.d")
        input.dataDirectory = "/data\"\nsave 1 1 \"x"
        XCTAssertThrowsError(try RedisConfWriter.render(input)) { error in
            guard case ConfigWriterError.invalidValue("dir", _, _)? = error as? ConfigWriterError else { return XCTFail("\(error)") }
        }
        input.dataDirectory = "/data dir/\"quoted\" #x"
        input.password = "p w#\""
        let text = try RedisConfWriter.render(input)
        let directives = try XCTUnwrap(RedisConfSyntax.parse(text))
        XCTAssertEqual(directives.filter { $0[0] == "dir" }, [["dir", "/data dir/\"quoted\" #x"]])
        XCTAssertEqual(directives.filter { $0[0] == "dbfilename" }, [["dbfilename", "dump.rdb"]])
        XCTAssertThrowsError(try RedisConfWriter.render(redisInput(replicaOf: master, password: "pw\ndir /etc"))) { error in
            XCTAssertFalse("\(error)".contains("pw"), "\(error)")
        }
    }

    func testWritersRefuseWhatRedisCannotUse() throws {
        var redis = redisInput(replicaOf: nil)
        redis.bind = ["0.0.0.0", "localhost"]
        XCTAssertThrowsError(try RedisConfWriter.render(redis))
        redis.bind = []
        XCTAssertThrowsError(try RedisConfWriter.render(redis))
        redis = redisInput(replicaOf: nil)
        redis.port = 0
        XCTAssertThrowsError(try RedisConfWriter.render(redis))

        var sentinel = sentinelInput()
        sentinel.quorum = 0
        XCTAssertThrowsError(try SentinelConfWriter.render(sentinel))
        sentinel = sentinelInput(myID: "not-an-id")
        XCTAssertThrowsError(try SentinelConfWriter.render(sentinel))
        sentinel = sentinelInput()
        sentinel.knownSentinels = [KnownSentinel(address: me, id: "x\nsentinel notification-script mymaster /tmp/pwn")]
        XCTAssertThrowsError(try SentinelConfWriter.render(sentinel))
        sentinel = sentinelInput()
        sentinel.masterName = "my master"
        XCTAssertThrowsError(try SentinelConfWriter.render(sentinel))
    }

    /// Sentinel's CONFIG REWRITE writes auth-pass and the reconfig script
    /// back unquoted (seen with redis-sentinel 7.0.15: the next start then
    /// fails with "Unrecognized sentinel configuration statement").
    func testSentinelValuesMustSurviveSentinelsUnquotedRewrite() throws {
        XCTAssertThrowsError(try SentinelConfWriter.render(sentinelInput(password: "sec ret"))) { error in
            XCTAssertFalse("\(error)".contains("sec"), "\(error)")
        }
        var input = sentinelInput(password: "s3cret")
        input.clientReconfigScript = "/opt/redis manage/bin/redis-manage"
        XCTAssertThrowsError(try SentinelConfWriter.render(input))
        input.clientReconfigScript = "/usr/local/bin/redis-manage (deleted)"
        XCTAssertThrowsError(try SentinelConfWriter.render(input))
        input.clientReconfigScript = "relative/redis-manage"
        XCTAssertThrowsError(try SentinelConfWriter.render(input))
    }

    /// Issue 12, finding 8: `/proc/self/exe` reads `<path> (deleted)` after an upgrade in place.
    func testReconfigScriptPathDropsTheDeletedSuffix() {
        XCTAssertEqual(CommandRunner.executablePath(link: "/usr/local/bin/redis-manage (deleted)", argument0: "x"), "/usr/local/bin/redis-manage")
        XCTAssertEqual(CommandRunner.executablePath(link: "/usr/local/bin/redis-manage", argument0: "x"), "/usr/local/bin/redis-manage")
        XCTAssertEqual(CommandRunner.executablePath(link: nil, argument0: "/bin/redis-manage"), "/bin/redis-manage")
    }

    private func sentinelInput(myID: String? = nil, password: String? = nil) -> SentinelConfInput {
        SentinelConfInput(
            port: 26379, bind: ["0.0.0.0"], workingDirectory: "/tmp", announce: try! NodeAddress(host: "10.0.0.1", port: 26379),
            masterName: "mymaster", master: master, quorum: 2, downAfterMilliseconds: 5000, parallelSyncs: 1,
            failoverTimeoutMilliseconds: 30000, password: password, username: "app",
            knownReplicas: [me, master, try! NodeAddress(host: "10.0.0.3", port: 6379)],
            knownSentinels: [
                KnownSentinel(address: try! NodeAddress(host: "10.0.0.2", port: 26379), id: String(repeating: "b", count: 40)),
                KnownSentinel(address: try! NodeAddress(host: "10.0.0.1", port: 26379), id: String(repeating: "a", count: 40)),
            ],
            myID: myID, clientReconfigScript: "/usr/local/bin/redis-manage-failover")
    }

    func testSentinelConfListsMonitorBeforeOptionsAndSkipsItself() throws {
        let text = try SentinelConfWriter.render(sentinelInput(password: "s3cret"))
        let l = lines(text)
        let monitor = l.firstIndex(of: "sentinel monitor mymaster 10.0.0.2 6379 2")
        XCTAssertNotNil(monitor)
        let downAfter = l.firstIndex(of: "sentinel down-after-milliseconds mymaster 5000")
        XCTAssertNotNil(downAfter)
        XCTAssertLessThan(monitor!, downAfter!)
        XCTAssertTrue(l.contains("sentinel failover-timeout mymaster 30000"))
        XCTAssertTrue(text.contains(#"sentinel auth-pass "mymaster" "s3cret""#), text)
        XCTAssertTrue(text.contains(#"sentinel monitor "mymaster" "10.0.0.2" 6379 2"#), text)
        XCTAssertTrue(l.contains("sentinel auth-user mymaster app"))
        XCTAssertTrue(l.contains("sentinel announce-ip 10.0.0.1"))
        XCTAssertTrue(l.contains("sentinel client-reconfig-script mymaster /usr/local/bin/redis-manage-failover"))
        // The master is not its own replica, and this sentinel is not its own peer.
        XCTAssertEqual(l.filter { $0.hasPrefix("sentinel known-replica") }, [
            "sentinel known-replica mymaster 10.0.0.1 6379", "sentinel known-replica mymaster 10.0.0.3 6379",
        ])
        XCTAssertEqual(l.filter { $0.hasPrefix("sentinel known-sentinel") }, [
            "sentinel known-sentinel mymaster 10.0.0.2 26379 \(String(repeating: "b", count: 40))",
        ])
        XCTAssertFalse(text.contains("myid"))
        // What Sentinel writes back unquoted reads the same.
        let rewritten = try SentinelConfWriter.directives(sentinelInput(password: "s3cret")).map { $0.joined(separator: " ") }.joined(separator: "\n")
        XCTAssertEqual(RedisConfSyntax.parse(rewritten), RedisConfSyntax.parse(text))
    }

    func testSentinelKeepsItsOwnID() throws {
        let id = String(repeating: "c", count: 40)
        let text = try SentinelConfWriter.render(sentinelInput(myID: id, password: "x"))
        XCTAssertTrue(lines(text).contains("sentinel myid \(id)"))
    }

    func testExistingConfIsParsedTolerantly() {
        let id = String(repeating: "d", count: 40)
        let text = "port 26379\nsentinel myid \(id)\r\nsentinel monitor other 1.2.3.4 1 2\nsentinel monitor mymaster 10.0.0.2 6379 2\n"
        XCTAssertEqual(ExistingSentinelConf.parse(text, masterName: "mymaster"),
                       ExistingSentinelConf(master: master, myID: id))
        let garbage = "sentinel\nsentinel monitor mymaster host notaport 2\nsentinel myid short\n\u{0}\u{ff}"
        XCTAssertEqual(ExistingSentinelConf.parse(garbage, masterName: "mymaster"), ExistingSentinelConf(master: nil, myID: nil))
        // Quoted as this writer writes it, unquoted as Sentinel rewrites it.
        XCTAssertEqual(ExistingSentinelConf.parse(#"sentinel monitor "mymaster" "10.0.0.2" "6379" "2""#, masterName: "mymaster").master, master)
        let injected = "sentinel monitor mymaster \"10.0.0.2\\nsentinel notification-script mymaster /tmp/x\" 6379 2"
        XCTAssertNil(ExistingSentinelConf.parse(injected, masterName: "mymaster").master)
    }

    func testPolicyKeepsAFileThatFollowsTheMaster() {
        let existing = ExistingSentinelConf(master: master, myID: "x")
        guard case .keep = SentinelConfPolicy.choose(existing: existing, clusterMaster: master) else {
            return XCTFail("should keep")
        }
    }

    func testPolicyRewritesAFileFollowingAnOldMasterButKeepsTheID() {
        let id = String(repeating: "e", count: 40)
        let choice = SentinelConfPolicy.choose(existing: ExistingSentinelConf(master: me, myID: id), clusterMaster: master)
        guard case let .write(myID, reason) = choice else { return XCTFail("should rewrite") }
        XCTAssertEqual(myID, id)
        XCTAssertTrue(reason.contains("10.0.0.1:6379") && reason.contains("10.0.0.2:6379"), reason)
    }

    func testPolicyWritesWhenThereIsNoFile() {
        guard case .write(nil, _) = SentinelConfPolicy.choose(existing: nil, clusterMaster: master) else {
            return XCTFail("should write")
        }
    }
}
