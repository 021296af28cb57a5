/// Quotes a value for redis.conf and sentinel.conf: Redis splits directive
/// lines like a shell, so a password with a space, quote or `#` must be
/// written as a double-quoted string with escapes.
enum RedisConfQuoting {
    static func quote(_ value: String) -> String {
        var out = "\""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + hex(byte)
            }
        }
        return out + "\""
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
