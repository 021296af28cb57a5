import Foundation

/// What a server start does about its user: redis-server and redis-sentinel
/// face the network, so when redis-manage runs as root (as ContainerPilot's
/// jobs do) they run as REDIS_RUN_AS instead, owning only what they write.
enum ServerUserPlan: Sendable, Equatable {
    /// Start the server as the current user.
    case keep(reason: String)
    /// Hand the server's paths to this user, then become it.
    case become(user: String)

    static func decide(currentUID: uid_t, runAs: String) -> ServerUserPlan {
        if currentUID != 0 {
            return .keep(reason: "redis-manage does not run as root (uid \(currentUID)); the server runs as this user")
        }
        if runAs == "root" {
            return .keep(reason: "REDIS_RUN_AS=root: the server runs as root")
        }
        return .become(user: runAs)
    }
}

/// The paths a server writes to, which the server user must own: its data
/// or working directory, the run directory, and its config file with the
/// directory it lives in (CONFIG REWRITE writes a temporary file beside it
/// and renames it over the old one).
struct ServerPaths: Sendable, Equatable {
    /// Handed over with everything below them.
    var trees: [String]
    /// Handed over alone: a config file's directory.
    var directories: [String]
    var files: [String]

    /// A config file's directory is handed over only when it is a directory
    /// of its own (two levels deep or more, as /etc/redis): never /, /etc or /tmp.
    static func forServer(workingDirectory: String, runDirectory: String, configFile: String) -> ServerPaths {
        let directory = (configFile as NSString).deletingLastPathComponent
        let depth = directory.split(separator: "/").count
        return ServerPaths(trees: [workingDirectory, runDirectory], directories: depth >= 2 ? [directory] : [], files: [configFile])
    }
}

enum ServerUserError: Error, CustomStringConvertible, Equatable {
    case unknownUser(String)
    case handOverFailed(path: String, user: String, reason: String)
    case switchFailed(user: String, step: String, reason: String)

    var description: String {
        switch self {
        case let .unknownUser(name):
            return "REDIS_RUN_AS names \(name.debugDescription), which is not a user here; create it (useradd --system \(name)) "
                + "or set REDIS_RUN_AS to one that exists (root keeps the servers as root)"
        case let .handOverFailed(path, user, reason):
            return "cannot give \(path) to \(user): \(reason)"
        case let .switchFailed(user, step, reason):
            return "cannot become \(user) (\(step)): \(reason)"
        }
    }
}

/// Becomes the server user: hands its paths over, then drops root for good
/// (supplementary groups, group, user), just before the exec.
struct ServerUser {
    let name: String
    let uid: uid_t
    let gid: gid_t

    static func lookUp(_ name: String) throws -> ServerUser {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
            throw ServerUserError.unknownUser(name)
        }
        return ServerUser(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
    }

    func handOver(_ paths: ServerPaths) throws {
        for tree in paths.trees {
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            try own(tree)
            guard let entries = FileManager.default.enumerator(atPath: tree) else { continue }
            for case let entry as String in entries {
                try own(tree + "/" + entry)
            }
        }
        for path in paths.directories + paths.files {
            try own(path)
        }
    }

    /// lchown: a link in a data directory is given, never followed.
    private func own(_ path: String) throws {
        if lchown(path, uid, gid) != 0 && errno != ENOENT {
            throw ServerUserError.handOverFailed(path: path, user: name, reason: String(cString: strerror(errno)))
        }
    }

    func become() throws {
        var groups = [gid]
        try check(setgroups(1, &groups), "setgroups")
        try check(setgid(gid), "setgid")
        try check(setuid(uid), "setuid")
        // Dropped for good: root cannot be taken back.
        if setuid(0) == 0 {
            throw ServerUserError.switchFailed(user: name, step: "setuid", reason: "root could be regained")
        }
    }

    private func check(_ status: Int32, _ step: String) throws {
        if status != 0 {
            throw ServerUserError.switchFailed(user: name, step: step, reason: String(cString: strerror(errno)))
        }
    }
}
