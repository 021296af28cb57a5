import Glibc

/// One entry of Redis's data directory that matters for "is there data".
struct DataEntry: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case file, directory, other }
    var name: String
    var kind: Kind
    var size: Int

    init(name: String, kind: Kind, size: Int = 0) {
        self.name = name
        self.kind = kind
        self.size = size
    }
}

/// Whether Redis's data directory holds a dataset, which a restore must never
/// replace. Redis 7 keeps its AOF as `appendonlydir/`; treating "no
/// appendonly.aof" as "no data" would rebuild from an older RDB and lose writes.
enum LocalData {
    static let rdbFile = "dump.rdb"
    static let aofFile = "appendonly.aof"
    static let aofDirectory = "appendonlydir"

    /// What counts as data, described for the logs; empty when there is none.
    static func evidence(in entries: [DataEntry]) -> [String] {
        var found: [String] = []
        for entry in entries {
            switch entry.name {
            case aofDirectory where entry.kind == .directory:
                found.append("\(aofDirectory)/")
            case aofFile where entry.kind != .directory:
                found.append("\(aofFile) (\(entry.size) bytes)")
            case rdbFile where entry.kind != .file || entry.size > 0:
                found.append("\(rdbFile) (\(entry.size) bytes)")
            default:
                break
            }
        }
        return found.sorted()
    }

    /// The entries `evidence` looks at; a missing directory has none.
    static func scan(_ directory: String) -> [DataEntry] {
        [rdbFile, aofFile, aofDirectory].compactMap { name in
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { return nil }
            let kind: DataEntry.Kind
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .directory
            default: kind = .other
            }
            return DataEntry(name: name, kind: kind, size: Int(info.st_size))
        }
    }

    /// The file a finished AOF rewrite leaves, as the server describes its
    /// layout: with an `appenddirname` (Redis 7, Valkey) the manifest in that
    /// directory, without one (Redis 6.2) the AOF file itself.
    static func appendOnlyFile(in directory: String, directoryName: String?, fileName: String) -> String {
        guard let directoryName, !directoryName.isEmpty else { return directory + "/" + fileName }
        return directory + "/" + directoryName + "/" + fileName + ".manifest"
    }
}
