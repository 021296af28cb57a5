import Glibc
import XCTest
@testable import RedisAutopilot

final class SocketConnectionTests: XCTestCase {
    func testConnectToClosedPortFailsWithContext() {
        XCTAssertThrowsError(try SocketConnection.connect(host: "127.0.0.1", port: 1, timeout: 1)) { error in
            guard case NetError.connect(let endpoint, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, .tcp(host: "127.0.0.1", port: 1))
        }
    }

    func testUnresolvableHostIsAResolveError() {
        XCTAssertThrowsError(try SocketConnection.connect(host: "no-such-host.invalid", port: 80, timeout: 2)) { error in
            guard case NetError.resolve = error else { return XCTFail("\(error)") }
        }
    }

    func testReadTimesOutAtDeadline() throws {
        let listener = try LoopbackListener()
        let connection = try SocketConnection.connect(host: "127.0.0.1", port: listener.port, timeout: 1)
        let started = Deadline.now
        XCTAssertThrowsError(try connection.read(deadline: .after(seconds: 0.2))) { error in
            guard case NetError.timeout(_, "read") = error else { return XCTFail("\(error)") }
        }
        let elapsed = Double(Deadline.now.nanoseconds - started.nanoseconds) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.19)
        XCTAssertLessThan(elapsed, 1.0)
    }
}

/// A listening socket on a free loopback port that never accepts: enough for
/// the kernel to complete the handshake, and nothing is ever sent.
final class LoopbackListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

final class DeadlineTests: XCTestCase {
    func testHugeInfiniteAndNaNWaitsDoNotTrap() {
        XCTAssertFalse(Deadline.after(seconds: .infinity).hasPassed)
        XCTAssertFalse(Deadline.after(seconds: 1e300).hasPassed)
        XCTAssertTrue(Deadline.after(seconds: .nan).hasPassed)
        XCTAssertTrue(Deadline.after(seconds: -5).hasPassed)
    }
}
