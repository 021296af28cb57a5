import Foundation
import Glibc

/// Backups as files in one directory of the local filesystem (a mounted
/// volume, or the tests' store). Each put is atomic and durable: a reader or
/// a crash sees the previous object or the complete new one.
final class LocalDirectoryStore: BackupStore {
    let directory: String

    var description: String { "local directory \(directory)" }

    /// Creates the directory (and missing parents) with mode 0700 if it does
    /// not exist; an existing directory keeps its mode.
    init(directory: String) throws {
        self.directory = directory
        do {
            try LocalDirectoryStore.makeDirectory(directory)
        } catch {
            throw BackupStoreError.failed(store: description, name: nil, operation: "create", cause: error)
        }
    }

    func put(name: String, from upload: UploadSource) throws {
        try BackupName.validate(name, store: description)
        let writer: AtomicFileWriter
        do {
            writer = try AtomicFileWriter(destination: path(of: name))
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "put", cause: error)
        }
        let length = upload.length
        let copied: Int
        do {
            copied = try ByteStreams.copy(from: try upload.open(), to: writer)
        } catch {
            writer.abort()
            throw BackupStoreError.failed(store: description, name: name, operation: "put", cause: error)
        }
        if let length, length != copied {
            writer.abort()
            throw BackupStoreError.lengthMismatch(store: description, name: name, expected: length, actual: copied)
        }
        do {
            try writer.commit()
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "put", cause: error)
        }
    }

    func get(name: String, into sink: ByteSink) throws {
        try BackupName.validate(name, store: description)
        let source: FileByteSource
        do {
            source = try FileByteSource(path: path(of: name))
        } catch FileStreamError.missing {
            throw BackupStoreError.notFound(store: description, name: name)
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "get", cause: error)
        }
        do {
            try ByteStreams.copy(from: source, to: sink)
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "get", cause: error)
        }
    }

    /// The regular files whose names are valid backup names, sorted by name;
    /// temporary files of puts in progress are hidden and not listed.
    func list() throws -> [BackupObject] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw BackupStoreError.failed(store: description, name: nil, operation: "list", cause: error)
        }
        var objects: [BackupObject] = []
        for name in names.sorted() where BackupName.problem(with: name) == nil {
            var info = stat()
            // Deleted since the directory was read: not there any more.
            guard lstat(path(of: name), &info) == 0 else { continue }
            guard info.st_mode & S_IFMT == S_IFREG else { continue }
            let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
            objects.append(BackupObject(name: name, size: Int(info.st_size), modified: modified))
        }
        return objects
    }

    func delete(name: String) throws {
        try BackupName.validate(name, store: description)
        let target = path(of: name)
        guard unlink(target) == 0 else {
            if errno == ENOENT { throw BackupStoreError.notFound(store: description, name: name) }
            let cause = FileStreamError.remove(path: target, message: errnoMessage())
            throw BackupStoreError.failed(store: description, name: name, operation: "delete", cause: cause)
        }
        do {
            try syncDirectory(directory)
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "delete", cause: error)
        }
    }

    private func path(of name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func makeDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw FileStreamError.createDirectory(path: path, message: "exists and is not a directory")
            }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectory(String(path[..<slash]))
        }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw FileStreamError.createDirectory(path: path, message: errnoMessage())
        }
    }
}
