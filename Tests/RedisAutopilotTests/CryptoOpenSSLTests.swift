import Foundation
import XCTest
@testable import RedisAutopilot

/// Random inputs of awkward lengths, fed in random pieces, hashed here and by
/// `openssl dgst`; the two must agree byte for byte.
final class CryptoOpenSSLTests: XCTestCase {
    private var scratch: CryptoScratchDirectory!

    override func setUpWithError() throws {
        scratch = try CryptoScratchDirectory()
    }

    override func tearDown() {
        scratch = nil
    }

    func testHashesOfRandomInputsMatchOpenSSL() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        var lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000]
        lengths += (0..<6).map { _ in Int.random(in: 0..<20_000, using: &random) }
        lengths.append(3_000_000 + Int.random(in: 0..<1000, using: &random))

        var files: [(path: String, bytes: [UInt8])] = []
        for (index, length) in lengths.enumerated() {
            let bytes = random.bytes(length)
            let path = scratch.path("input-\(index)")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            files.append((path, bytes))
        }

        func compare<H: HashFunction>(_: H.Type, openSSLName: String) throws {
            let reference = try openSSLDigests(["dgst", "-\(openSSLName)", "-r"], files: files.map(\.path))
            for (index, file) in files.enumerated() {
                var hasher = H()
                for piece in random.pieces(of: file.bytes) {
                    hasher.update(piece)
                }
                XCTAssertEqual(hasher.finalizeHex(), reference[index],
                               "\(H.self) of \(file.bytes.count) bytes, seed \(seed)")
            }
        }
        try compare(SHA256.self, openSSLName: "sha256")
        try compare(SHA1.self, openSSLName: "sha1")
        try compare(MD5.self, openSSLName: "md5")

        for keyLength in [1, 32, 64, 65, Int.random(in: 66..<300, using: &random)] {
            let key = random.bytes(keyLength)
            let reference = try openSSLDigests(
                ["dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:\(Hex.encode(key))", "-r"],
                files: files.map(\.path))
            for (index, file) in files.enumerated() {
                var hmac = HMACSHA256(key: key)
                for piece in random.pieces(of: file.bytes) {
                    hmac.update(piece)
                }
                XCTAssertEqual(Hex.encode(hmac.finalize()), reference[index],
                               "HMAC-SHA256 with a \(keyLength)-byte key of \(file.bytes.count) bytes, seed \(seed)")
            }
        }
    }

    /// `openssl dgst -r` prints `HEX *FILE`, one line per file in order.
    private func openSSLDigests(_ arguments: [String], files: [String]) throws -> [String] {
        let output = try CryptoTestCommand.output(["openssl"] + arguments + files)
        let digests = output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        XCTAssertEqual(digests.count, files.count, output)
        return digests
    }
}

/// A deterministic generator, so that a failure can be replayed from the seed
/// printed with it.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        for index in result.indices {
            result[index] = UInt8.random(in: 0...255, using: &self)
        }
        return result
    }

    /// Splits `bytes` into consecutive pieces of random sizes, empty ones
    /// included, up to a few blocks or, now and then, much more.
    mutating func pieces(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let limit = Bool.random(using: &self) ? 200 : 100_000
            let end = min(bytes.count, start + Int.random(in: 0...limit, using: &self))
            result.append(bytes[start..<end])
            start = end
        }
        return result
    }
}

/// A directory of its own under the system's temporary directory, removed
/// with everything in it when the value goes away.
final class CryptoScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("crypto-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// Runs a command-line tool under coreutils `timeout`, so a hung tool fails
/// its test instead of hanging the run.
enum CryptoTestCommand {
    struct Failure: Error, CustomStringConvertible {
        let command: [String]
        let status: Int32
        let standardError: String

        var description: String { "\(command.joined(separator: " ")) exited \(status): \(standardError)" }
    }

    @discardableResult
    static func output(_ command: [String], timeoutSeconds: Int = 120) throws -> String {
        let outputs = try CryptoScratchDirectory()
        let outPath = outputs.path("stdout"), errPath = outputs.path("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=5", String(timeoutSeconds)] + command
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        process.waitUntilExit()
        let standardOutput = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let standardError = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            throw Failure(command: command, status: process.terminationStatus, standardError: standardError)
        }
        return standardOutput
    }
}
