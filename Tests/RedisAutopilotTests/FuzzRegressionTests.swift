import Foundation
import XCTest

/// Replays through each fuzz target (FuzzTargets.swift) its seed corpus,
/// Tests/Fuzz/corpus/<target>/, and every input that once crashed it,
/// Tests/Fuzz/regressions/<target>/. A broken property stops the test
/// process, as it stopped the fuzzer.
final class FuzzRegressionTests: XCTestCase {
    private static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    private func inputs(_ kind: String) throws -> [String: [URL]] {
        let directory = Self.fuzzDirectory.appendingPathComponent(kind)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [:] }
        var found: [String: [URL]] = [:]
        for target in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(target).path)
            found[target] = files.sorted().map { directory.appendingPathComponent(target).appendingPathComponent($0) }
        }
        return found
    }

    func testEveryTargetHasSeedsAndEveryInputDirectoryATarget() throws {
        let corpus = try inputs("corpus")
        for target in FuzzTargets.all.map(\.name) {
            XCTAssertFalse(corpus[target, default: []].isEmpty, "no seeds for \(target)")
        }
        for directory in Array(corpus.keys) + Array(try inputs("regressions").keys) {
            XCTAssertNotNil(FuzzTargets.target(named: directory), "Tests/Fuzz has inputs for an unknown target \(directory)")
        }
    }

    func testSeedCorporaPass() throws {
        try replay(inputs("corpus"))
    }

    func testCrashesFoundByFuzzingStayFixed() throws {
        try replay(inputs("regressions"))
    }

    private func replay(_ inputs: [String: [URL]]) throws {
        for (target, files) in inputs.sorted(by: { $0.key < $1.key }) {
            let run = try XCTUnwrap(FuzzTargets.target(named: target), target)
            for file in files {
                run(Array(try Data(contentsOf: file)))
            }
        }
    }
}
