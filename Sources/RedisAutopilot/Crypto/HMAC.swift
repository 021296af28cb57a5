import Foundation

/// HMAC (RFC 2104) over any of the streaming hashes; the message may be fed in
/// pieces like the hash itself.
struct HMAC<Hash: HashFunction>: Sendable, CustomStringConvertible {
    private var inner = Hash()
    /// Already fed with the padded key, so the key itself is not kept.
    private var outer = Hash()

    init(key: some ContiguousBytes) {
        var blockKey = key.withUnsafeBytes { [UInt8]($0) }
        if blockKey.count > Hash.blockByteCount {
            blockKey = Hash.digest(blockKey)
        }
        blockKey += [UInt8](repeating: 0, count: Hash.blockByteCount - blockKey.count)
        inner.update(blockKey.map { $0 ^ 0x36 })
        outer.update(blockKey.map { $0 ^ 0x5c })
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        inner.update(bytes)
    }

    mutating func update(_ bytes: some ContiguousBytes) {
        inner.update(bytes)
    }

    mutating func update(_ text: String) {
        inner.update(text)
    }

    func finalize() -> [UInt8] {
        var result = outer
        result.update(inner.finalize())
        return result.finalize()
    }

    static func authenticationCode(for message: some ContiguousBytes, key: some ContiguousBytes) -> [UInt8] {
        var hmac = Self(key: key)
        hmac.update(message)
        return hmac.finalize()
    }

    static func authenticationCode(for message: String, key: some ContiguousBytes) -> [UInt8] {
        var hmac = Self(key: key)
        hmac.update(message)
        return hmac.finalize()
    }

    /// The keyed state must not end up in logs.
    var description: String { "HMAC<\(Hash.self)>" }
}

typealias HMACSHA256 = HMAC<SHA256>
