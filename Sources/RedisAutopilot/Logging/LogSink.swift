import Glibc
import Synchronization

/// Where formatted log lines go. Each call receives one complete line
/// without its newline.
public protocol LogSink: Sendable {
    func write(line: String)
}

/// Standard output, which ContainerPilot collects from every hook.
public final class StandardOutputLogSink: LogSink {
    /// Serialises lines from concurrent threads: the kernel keeps a single
    /// write(2) whole only up to PIPE_BUF bytes, and a line can be longer.
    private let lock = Mutex(())

    public init() {}

    public func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    // Nowhere left to report a broken stdout: drop the line
                    // rather than fail the hook over its logging.
                    return
                }
            }
        }
    }
}

/// Keeps lines in memory, for tests that check what was logged.
final class InMemoryLogSink: LogSink {
    private let storage = Mutex<[String]>([])

    init() {}

    func write(line: String) {
        storage.withLock { $0.append(line) }
    }

    var lines: [String] {
        storage.withLock { $0 }
    }
}
