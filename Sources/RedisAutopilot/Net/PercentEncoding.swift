/// RFC 3986 percent-encoding for request targets: every byte outside the
/// unreserved set `A-Z a-z 0-9 - . _ ~` becomes `%XY` in uppercase hex (the
/// form SigV4 signs, and one every server decodes), so no name or value can be
/// read as a separator, a query or another path segment.
enum PercentEncoding {
    /// `keepingSlash` leaves `/` as it is, for paths whose segments are the
    /// caller's (KV keys, object keys).
    static func encode(_ text: String, keepingSlash: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
