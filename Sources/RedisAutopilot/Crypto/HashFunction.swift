import Foundation

/// A streaming hash: bytes go in through `update` in pieces of any size, so a
/// backup of any length is hashed without being held in memory.
protocol HashFunction: Sendable {
    static var digestByteCount: Int { get }
    /// The block size HMAC pads its key to.
    static var blockByteCount: Int { get }

    init()
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// The digest of everything fed so far; the hasher itself is left as it
    /// was, so a running digest can be read and more bytes fed afterwards.
    func finalize() -> [UInt8]
}

extension HashFunction {
    mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    func finalizeHex() -> String {
        Hex.encode(finalize())
    }

    static func digest(_ bytes: some ContiguousBytes) -> [UInt8] {
        var hasher = Self()
        hasher.update(bytes)
        return hasher.finalize()
    }

    static func digest(_ text: String) -> [UInt8] {
        var hasher = Self()
        hasher.update(text)
        return hasher.finalize()
    }

    static func hexDigest(_ bytes: some ContiguousBytes) -> String {
        Hex.encode(digest(bytes))
    }

    static func hexDigest(_ text: String) -> String {
        Hex.encode(digest(text))
    }
}
