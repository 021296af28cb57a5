import Foundation
import Glibc
@testable import RedisAutopilot

/// A private CA and the certificates it signed, made once per test run with
/// the openssl command: what the https tests trust and what their servers show.
final class TestCertificates: Sendable {
    let directory: String
    /// The CA the clients trust.
    var caFile: String { directory + "/ca.pem" }
    /// Signed by the CA for IP 127.0.0.1 only: a client that asks for
    /// "localhost" must refuse it.
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    /// Signed by itself, for 127.0.0.1: right name, untrusted issuer.
    var selfSignedCertificate: String { directory + "/self.pem" }
    var selfSignedKey: String { directory + "/self.key" }

    static let shared = Result { try TestCertificates() }

    private init() throws {
        var template = Array((NSTemporaryDirectory() + "/tls-tests-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw TestSetupError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: created)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runQuietly(["openssl", "req", "-x509"] + curve + ["-days", "2", "-subj", "/CN=redis-manage test CA",
                        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                        "-keyout", directory + "/ca.key", "-out", caFile])
        try runQuietly(["openssl", "req"] + curve + ["-subj", "/CN=127.0.0.1", "-keyout", serverKey, "-out", directory + "/server.csr"])
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try runQuietly(["openssl", "x509", "-req", "-in", directory + "/server.csr", "-CA", caFile, "-CAkey", directory + "/ca.key",
                        "-set_serial", "2", "-days", "2", "-extfile", directory + "/server.ext", "-out", serverCertificate])
        try runQuietly(["openssl", "req", "-x509"] + curve + ["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", selfSignedKey, "-out", selfSignedCertificate])
    }
}

/// Runs a command line tool to completion, its output discarded.
func runQuietly(_ arguments: [String], deadline: Deadline = .after(seconds: 60)) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    while process.isRunning {
        if deadline.hasPassed {
            process.terminate()
            throw TestSetupError("\(arguments[0]) did not finish in time")
        }
        usleep(10_000)
    }
    guard process.terminationStatus == 0 else {
        throw TestSetupError("\(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
}

