/// Checks that bytes start as an RDB file does: `REDIS` and a four-digit
/// version. Fed in pieces as they stream past.
struct RDBHeaderCheck: Sendable {
    static let length = 9
    private static let magic = Array("REDIS".utf8)

    private var collected: [UInt8] = []
    private(set) var version: Int?

    init() {}

    /// Throws `BackupError.notRDB` as soon as the first nine bytes are known
    /// and wrong.
    mutating func feed(_ bytes: [UInt8]) throws {
        guard collected.count < Self.length else { return }
        collected.append(contentsOf: bytes.prefix(Self.length - collected.count))
        if collected.count == Self.length { version = try Self.parse(collected) }
    }

    /// The RDB version; throws when fewer than nine bytes came.
    func finish() throws -> Int {
        if let version { return version }
        throw BackupError.notRDB(reason: "only \(collected.count) bytes, shorter than an RDB header")
    }

    static func parse(_ header: [UInt8]) throws -> Int {
        guard header.count >= length else {
            throw BackupError.notRDB(reason: "only \(header.count) bytes, shorter than an RDB header")
        }
        guard Array(header[0..<5]) == magic else {
            throw BackupError.notRDB(reason: "does not start with REDIS (starts with \(printable(header.prefix(5))))")
        }
        var version = 0
        for byte in header[5..<9] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw BackupError.notRDB(reason: "version \(printable(header[5..<9])) is not four digits")
            }
            version = version * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return version
    }

    private static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self).debugDescription
    }
}

/// Passes bytes to a sink while hashing them with SHA-256 and checking the
/// RDB header: what a restore writes is checked as it arrives.
final class RDBCheckingSink: ByteSink {
    private let sink: ByteSink
    private(set) var header = RDBHeaderCheck()
    private(set) var hasher = SHA256()
    private(set) var byteCount = 0

    init(_ sink: ByteSink) {
        self.sink = sink
    }

    func write(_ bytes: [UInt8]) throws {
        try header.feed(bytes)
        hasher.update(bytes)
        byteCount += bytes.count
        try sink.write(bytes)
    }
}

/// Yields a source's bytes while hashing them with SHA-256 and checking the
/// RDB header, so a file that is not an RDB never reaches the store whole.
final class RDBCheckingSource: ByteSource {
    private let source: ByteSource
    private(set) var header = RDBHeaderCheck()
    private(set) var hasher = SHA256()
    private(set) var byteCount = 0

    init(_ source: ByteSource) {
        self.source = source
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        let bytes = try source.read(maxBytes: maxBytes)
        if bytes.isEmpty {
            _ = try header.finish()
            return bytes
        }
        try header.feed(bytes)
        hasher.update(bytes)
        byteCount += bytes.count
        return bytes
    }
}
