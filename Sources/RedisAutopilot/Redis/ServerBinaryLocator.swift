import Glibc

/// The two programs a node runs.
enum ServerProgram: String, Sendable, CaseIterable {
    case server
    case sentinel

    var variable: String { self == .server ? "REDIS_SERVER_BIN" : "REDIS_SENTINEL_BIN" }
}

/// Finds the program REDIS_SERVER_BIN or REDIS_SENTINEL_BIN names: the path
/// given, or the first of the names on PATH (redis-server, then
/// valkey-server by default).
struct ServerBinaryLocator: Sendable {
    let settings: ServerBinarySettings
    let isExecutableFile: @Sendable (String) -> Bool

    init(settings: ServerBinarySettings, isExecutableFile: @escaping @Sendable (String) -> Bool = ServerBinaryLocator.isExecutableFile) {
        self.settings = settings
        self.isExecutableFile = isExecutableFile
    }

    func locate(_ program: ServerProgram) throws -> String {
        switch program == .server ? settings.server : settings.sentinel {
        case let .path(path):
            guard isExecutableFile(path) else {
                throw ServerBinaryError.notExecutable(variable: program.variable, path: path)
            }
            return path
        case let .search(names):
            for name in names {
                for directory in settings.searchPath {
                    let candidate = (directory.hasSuffix("/") ? directory : directory + "/") + name
                    if isExecutableFile(candidate) { return candidate }
                }
            }
            throw ServerBinaryError.notFound(variable: program.variable, names: names, searchPath: settings.searchPath)
        }
    }

    /// A regular file (a symlink is followed) that this process may execute.
    static let isExecutableFile: @Sendable (String) -> Bool = { path in
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}

enum ServerBinaryError: Error, Equatable, CustomStringConvertible {
    case notFound(variable: String, names: [String], searchPath: [String])
    case notExecutable(variable: String, path: String)
    /// The throwaway instance asked about its features did not answer.
    case probeFailed(path: String, reason: String, versionLine: String, output: String)
    /// It answered, and lacks what redis-manage needs.
    case unsupported(path: String, reason: String)

    var description: String {
        switch self {
        case let .notFound(variable, names, searchPath):
            let which = names.count == 1 ? "\(names[0]) is not" : "neither " + names.joined(separator: " nor ") + " is"
            return "\(which) on PATH (\(searchPath.joined(separator: ":"))): install \(names.count == 1 ? "it" : "one"), "
                + "or set \(variable) to the program's absolute path"
        case let .notExecutable(variable, path):
            return "\(variable)=\(path) is not an executable file"
        case let .probeFailed(path, reason, versionLine, output):
            return "\(path) (\(versionLine.isEmpty ? "no version from --version" : versionLine)) could not be asked "
                + "which features it has: \(reason)" + (output.isEmpty ? "" : "; its output ends with: \(output)")
                + "; \(ServerSupport.supportedList)"
        case let .unsupported(path, reason):
            return "\(path) is not a server redis-manage supports: \(reason); \(ServerSupport.supportedList)"
        }
    }
}
