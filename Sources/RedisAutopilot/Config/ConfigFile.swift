import Foundation

/// Writes a configuration file so that a reader sees the old file or the new
/// one, never half of either: a crash mid-write must not leave redis-server
/// a truncated config.
enum ConfigFile {
    static func write(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let writer = try AtomicFileWriter(destination: path)
        do {
            try writer.write(Array(text.utf8))
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
    }

    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }
}
