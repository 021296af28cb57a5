import Foundation

/// The installed `redis-server`, asked for its version before it runs so the
/// config can use the directives that release understands.
public enum RedisServerBinary {
    public static func version(executable: String = "redis-server") throws -> RedisVersion {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable, "--version"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let version = parseVersion(text) else {
            throw RedisServerBinaryError.versionUnknown(executable: executable, output: String(text.prefix(200)))
        }
        return version
    }

    /// `Redis server v=7.0.15 sha=...`
    static func parseVersion(_ text: String) -> RedisVersion? {
        for word in text.split(whereSeparator: \.isWhitespace) where word.hasPrefix("v=") {
            return RedisVersion(String(word.dropFirst(2)))
        }
        return nil
    }
}

public enum RedisServerBinaryError: Error, CustomStringConvertible {
    case versionUnknown(executable: String, output: String)

    public var description: String {
        switch self {
        case let .versionUnknown(executable, output):
            return "cannot read the version from `\(executable) --version`: \(output)"
        }
    }
}
