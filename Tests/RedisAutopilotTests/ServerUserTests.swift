import XCTest
@testable import RedisAutopilot

final class ServerUserTests: XCTestCase {
    func testOnlyRootDropsToTheServerUser() {
        XCTAssertEqual(ServerUserPlan.decide(currentUID: 0, runAs: "redis"), .become(user: "redis"))
        guard case .keep(let reason) = ServerUserPlan.decide(currentUID: 1000, runAs: "redis") else { return XCTFail() }
        XCTAssertTrue(reason.contains("uid 1000"), reason)
        guard case .keep(let root) = ServerUserPlan.decide(currentUID: 0, runAs: "root") else { return XCTFail() }
        XCTAssertTrue(root.contains("REDIS_RUN_AS=root"), root)
    }

    func testAConfigDirectoryIsHandedOverOnlyWhenItIsItsOwn() {
        XCTAssertEqual(ServerPaths.forServer(workingDirectory: "/data", runDirectory: "/var/run/redis", configFile: "/etc/redis/redis.conf"),
                       ServerPaths(trees: ["/data", "/var/run/redis"], directories: ["/etc/redis"], files: ["/etc/redis/redis.conf"]))
        XCTAssertEqual(ServerPaths.forServer(workingDirectory: "/data", runDirectory: "/run", configFile: "/etc/redis.conf").directories, [])
        XCTAssertEqual(ServerPaths.forServer(workingDirectory: "/data", runDirectory: "/run", configFile: "/redis.conf").directories, [])
    }

    func testAnUnknownUserIsAClearError() {
        XCTAssertThrowsError(try ServerUser.lookUp("no-such-user-here")) { error in
            XCTAssertEqual(error as? ServerUserError, .unknownUser("no-such-user-here"))
            XCTAssertTrue("\(error)".contains("REDIS_RUN_AS"), "\(error)")
        }
        XCTAssertEqual(try ServerUser.lookUp("root").uid, 0)
    }

    /// As root: a tree, a config directory and its file go to the user, links are not followed.
    func testHandOverGivesTheTreesAndFilesToTheUser() throws {
        guard getuid() == 0, let nobody = try? ServerUser.lookUp("nobody") else { throw XCTSkip("needs root and the nobody user") }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("server-user-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/data/appendonlydir", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: base + "/data/appendonlydir/a.aof", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: base + "/outside", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: base + "/data/link", withDestinationPath: base + "/outside")
        try FileManager.default.createDirectory(atPath: base + "/etc/redis", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: base + "/etc/redis/redis.conf", contents: Data())
        try nobody.handOver(.forServer(workingDirectory: base + "/data", runDirectory: base + "/run", configFile: base + "/etc/redis/redis.conf"))
        func owner(_ path: String) throws -> uid_t {
            var info = stat()
            XCTAssertEqual(lstat(path, &info), 0, path)
            return info.st_uid
        }
        for path in ["/data", "/data/appendonlydir", "/data/appendonlydir/a.aof", "/data/link", "/run", "/etc/redis", "/etc/redis/redis.conf"] {
            XCTAssertEqual(try owner(base + path), nobody.uid, path)
        }
        XCTAssertEqual(try owner(base + "/outside"), 0, "a link in the data directory was followed")
        XCTAssertEqual(try owner(base + "/etc"), 0)
    }
}
