import Glibc

/// Writes a file so that readers see either the previous content or all of
/// the new one, never a half-written file: the bytes go to a temporary name
/// in the same directory (same filesystem, so the rename is atomic), which is
/// synced, renamed over the destination, and the directory synced.
/// Dropped or aborted before `commit()`, the temporary file is removed and
/// the destination is untouched.
final class AtomicFileWriter: ByteSink {
    let destination: String
    let temporaryPath: String
    private let directory: String
    private let sink: FileByteSink
    private var isOpen = true

    init(destination: String, permissions: mode_t = 0o600) throws {
        self.destination = destination
        let (directory, name) = AtomicFileWriter.split(destination)
        self.directory = directory
        temporaryPath = directory + "/" + AtomicFileWriter.temporaryName(for: name)
        sink = try FileByteSink(path: temporaryPath, creation: .exclusive, permissions: permissions)
    }

    deinit {
        abort()
    }

    func write(_ bytes: [UInt8]) throws {
        guard isOpen else { throw FileStreamError.alreadyClosed(path: temporaryPath) }
        try sink.write(bytes)
    }

    /// Puts the new content in place. If it throws before the rename, the
    /// destination is untouched; if syncing the directory fails after the
    /// rename, the new content is in place but may not survive a crash.
    func commit() throws {
        guard isOpen else { throw FileStreamError.alreadyClosed(path: temporaryPath) }
        do {
            try sink.finish()
            guard rename(temporaryPath, destination) == 0 else {
                throw FileStreamError.rename(from: temporaryPath, to: destination, message: errnoMessage())
            }
        } catch {
            abort()
            throw error
        }
        isOpen = false
        try syncDirectory(directory)
    }

    /// Removes the temporary file; the destination keeps its old content.
    func abort() {
        guard isOpen else { return }
        isOpen = false
        sink.close()
        _ = unlink(temporaryPath)
    }

    /// `.NAME.tmp-<random>`: hidden, tied to the name it replaces, and unique
    /// so that two writers of one destination never share a temporary file.
    static func temporaryName(for name: String) -> String {
        let random = UInt64.random(in: .min ... .max)
        let hex = String(random, radix: 16)
        return ".\(name).tmp-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
