import Foundation
import Glibc
@testable import RedisAutopilot

/// Tests/doubles/s3_fault_proxy.py in front of an S3 server: requests pass
/// through untouched until a fault is armed (500, 503, 400 RequestTimeout,
/// a reset connection).
final class S3FaultProxy {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("doubles/s3_fault_proxy.py").path

    private let process = Process()
    let port: Int
    let controlPort: Int

    init(upstreamPort: Int, scratch: TemporaryDirectory, deadline: Deadline = .after(seconds: 20)) throws {
        let ready = scratch.path + "/s3-proxy-ready.json"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "--upstream", "http://127.0.0.1:\(upstreamPort)", "--ready-file", ready]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        while !FileManager.default.fileExists(atPath: ready) {
            guard process.isRunning, !deadline.hasPassed else {
                Self.terminate(process)
                throw TestSetupError("the S3 fault proxy did not start")
            }
            usleep(20_000)
        }
        guard let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ready))) as? [String: Any],
              let port = document["port"] as? Int, let controlPort = document["control_port"] as? Int else {
            Self.terminate(process)
            throw TestSetupError("the S3 fault proxy's ready file is unreadable")
        }
        self.port = port
        self.controlPort = controlPort
    }

    deinit { stop() }

    var endpoint: HTTPBaseURL { HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: port) }

    func stop() {
        Self.terminate(process)
    }

    private static func terminate(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// `kind`: InternalError, SlowDown, ServiceUnavailable, RequestTimeout or reset.
    func arm(_ kind: String, count: Int = 1, method: String? = nil, match: String = "") throws {
        var target = "/faults?kind=\(kind)&count=\(count)&match=\(PercentEncoding.encode(match))"
        if let method { target += "&method=\(method)" }
        let response = try HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: controlPort))
            .send(HTTPRequest(method: "POST", target: target), timeout: 10)
        guard response.status == 200 else { throw TestSetupError("arming \(kind): \(response.status) \(response.bodyText)") }
    }

    /// "METHOD target -> status" or "-> fault" for each request so far.
    func requests() throws -> [String] {
        let response = try HTTPClient(baseURL: HTTPBaseURL(scheme: .http, host: "127.0.0.1", port: controlPort))
            .send(HTTPRequest(method: "GET", target: "/requests"), timeout: 10)
        guard let records = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
            throw TestSetupError("the proxy's /requests is not a list")
        }
        return records.map { record in
            let outcome = (record["fault"] as? String) ?? (record["status"]).map { "\($0)" } ?? "none"
            return "\(record["method"] as? String ?? "") \(record["target"] as? String ?? "") -> \(outcome)"
        }
    }
}
