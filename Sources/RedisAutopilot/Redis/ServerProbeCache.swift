import Foundation
import Glibc

/// The last probe of each program, kept in the run directory so that
/// startRedis, run again on every restart of redis-server, does not start a
/// throwaway server each time. An entry holds only for the same file
/// (device, inode, size, modification time) and the same redis-manage: an
/// upgraded binary or redis-manage is asked again.
struct ServerProbeCache {
    struct Entry: Codable, Equatable {
        var path: String
        var fingerprint: String
        var report: ServerReport
    }

    let file: String

    init(runDir: String, program: ServerProgram) {
        file = runDir + "/\(program.rawValue)-probe.json"
    }

    /// nil for a file that cannot be read or parsed, or that describes another binary.
    func lookup(path: String) -> ServerReport? {
        guard let fingerprint = Self.fingerprint(of: path),
              let data = FileManager.default.contents(atPath: file),
              let entry = try? JSONDecoder().decode(Entry.self, from: data),
              entry.path == path, entry.fingerprint == fingerprint else { return nil }
        return entry.report
    }

    /// Best effort: a run directory that cannot be written only costs the next probe.
    func store(_ report: ServerReport, path: String) {
        guard let fingerprint = Self.fingerprint(of: path),
              let data = try? JSONEncoder().encode(Entry(path: path, fingerprint: fingerprint, report: report)) else { return }
        try? ConfigFile.write(String(decoding: data, as: UTF8.self), to: file)
    }

    static func fingerprint(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) redis-manage \(RedisManage.version)"
    }
}
