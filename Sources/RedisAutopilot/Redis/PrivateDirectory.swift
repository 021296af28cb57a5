import Foundation
import Glibc

/// A new 0700 directory for a throwaway server's unix socket and files: in
/// `base` when a socket path in it fits a unix socket address (108 bytes),
/// else under /tmp. Removed by `remove()`.
struct PrivateDirectory {
    let path: String

    static func make(in base: String, prefix: String) throws -> PrivateDirectory {
        let parent = base.utf8.count + 40 < 104 ? base : "/tmp"
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var template = Array((parent + "/\(prefix)-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else {
            throw FileStreamError.createDirectory(path: parent + "/\(prefix)-XXXXXX", message: errnoMessage())
        }
        return PrivateDirectory(path: made)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

}

/// The last lines of a server's log file, joined for one log line.
func logTail(of path: String, lines: Int = 5) -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
    return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
}
