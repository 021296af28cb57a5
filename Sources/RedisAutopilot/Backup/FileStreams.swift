import Glibc

enum FileStreamError: Error, Equatable, CustomStringConvertible {
    /// Opening for reading found no file there: a store answers "no such object".
    case missing(path: String)
    case open(path: String, message: String)
    case read(path: String, message: String)
    case write(path: String, message: String)
    case sync(path: String, message: String)
    case close(path: String, message: String)
    case rename(from: String, to: String, message: String)
    case remove(path: String, message: String)
    case createDirectory(path: String, message: String)
    /// A write after the file was finished or closed: a caller's bug,
    /// reported rather than trapped.
    case alreadyClosed(path: String)

    var description: String {
        switch self {
        case let .missing(path): return "\(path) does not exist"
        case let .open(path, message): return "cannot open \(path): \(message)"
        case let .read(path, message): return "cannot read \(path): \(message)"
        case let .write(path, message): return "cannot write \(path): \(message)"
        case let .sync(path, message): return "cannot sync \(path) to disk: \(message)"
        case let .close(path, message): return "cannot close \(path): \(message)"
        case let .rename(from, to, message): return "cannot rename \(from) to \(to): \(message)"
        case let .remove(path, message): return "cannot remove \(path): \(message)"
        case let .createDirectory(path, message): return "cannot create directory \(path): \(message)"
        case let .alreadyClosed(path): return "\(path) was already closed"
        }
    }
}

/// Reads a file in pieces, so a file of any size is streamed without being
/// held in memory.
final class FileByteSource: ByteSource {
    let path: String
    private var fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw FileStreamError.missing(path: path) }
            throw FileStreamError.open(path: path, message: errnoMessage())
        }
    }

    deinit {
        close()
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        guard fd >= 0 else { return [] }
        let capacity = max(1, maxBytes)
        return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = 0
            while true {
                let got = Glibc.read(fd, buffer.baseAddress, capacity)
                if got >= 0 {
                    count = got
                    return
                }
                if errno == EINTR { continue }
                throw FileStreamError.read(path: path, message: errnoMessage())
            }
        }
    }

    func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    /// Reads again from the first byte of the file opened, even if another
    /// file has been renamed to its path since.
    func rewind() throws {
        guard fd >= 0 else { throw FileStreamError.alreadyClosed(path: path) }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw FileStreamError.read(path: path, message: errnoMessage()) }
    }

    /// The size of the file opened.
    func size() throws -> Int {
        guard fd >= 0 else { throw FileStreamError.alreadyClosed(path: path) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw FileStreamError.read(path: path, message: errnoMessage()) }
        return Int(status.st_size)
    }
}

/// Writes a file in pieces. `finish()` makes the content durable (fsync)
/// before closing: a backup or a restored RDB that only reached the page
/// cache is lost with the machine.
final class FileByteSink: ByteSink {
    enum Creation: Sendable {
        /// Create the file or empty an existing one.
        case truncate
        /// Fail if the file exists: for temporary names nobody else may own.
        case exclusive
    }

    let path: String
    private var fd: Int32

    init(path: String, creation: Creation = .truncate, permissions: mode_t = 0o600) throws {
        self.path = path
        let mode = creation == .exclusive ? O_EXCL : O_TRUNC
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | mode, permissions)
        guard fd >= 0 else { throw FileStreamError.open(path: path, message: errnoMessage()) }
    }

    deinit {
        close()
    }

    func write(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw FileStreamError.alreadyClosed(path: path) }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FileStreamError.write(path: path, message: errnoMessage())
                }
                offset += written
            }
        }
    }

    /// Flushes the content to disk and closes the file.
    func finish() throws {
        guard fd >= 0 else { throw FileStreamError.alreadyClosed(path: path) }
        if fsync(fd) != 0 {
            let message = errnoMessage()
            close()
            throw FileStreamError.sync(path: path, message: message)
        }
        let status = Glibc.close(fd)
        fd = -1
        if status != 0 { throw FileStreamError.close(path: path, message: errnoMessage()) }
    }

    /// Closes without syncing: for a file that is being abandoned.
    func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }
}

/// Makes a rename or an unlink in `directory` durable: without it the
/// directory entry may still point to the old file after a crash.
func syncDirectory(_ directory: String) throws {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw FileStreamError.open(path: directory, message: errnoMessage()) }
    defer { _ = Glibc.close(fd) }
    guard fsync(fd) == 0 else { throw FileStreamError.sync(path: directory, message: errnoMessage()) }
}
