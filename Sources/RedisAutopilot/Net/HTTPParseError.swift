/// Why a response from the network could not be read as HTTP/1.1.
/// Header values are never quoted: a response may carry a token.
enum HTTPParseError: Error, Equatable, CustomStringConvertible {
    case invalidStatusLine(String)
    /// `line` counts from 1 after the status line (or after the last chunk for trailers).
    case invalidHeaderLine(line: Int, reason: String)
    case headerTooLarge(limit: Int)
    case invalidContentLength(String)
    case conflictingContentLength([String])
    case unsupportedTransferEncoding(String)
    case invalidChunkSize(String)
    case missingCRLF(after: String)
    case prematureEOF(during: String)

    var description: String {
        switch self {
        case let .invalidStatusLine(line):
            return "malformed status line \"\(line)\""
        case let .invalidHeaderLine(line, reason):
            return "malformed header line \(line): \(reason)"
        case let .headerTooLarge(limit):
            return "response header exceeds \(limit) bytes"
        case let .invalidContentLength(value):
            return "invalid Content-Length \"\(value)\""
        case let .conflictingContentLength(values):
            return "conflicting Content-Length values \(values)"
        case let .unsupportedTransferEncoding(value):
            return "unsupported Transfer-Encoding \"\(value)\""
        case let .invalidChunkSize(line):
            return "invalid chunk size line \"\(line)\""
        case let .missingCRLF(after):
            return "missing CRLF after \(after)"
        case let .prematureEOF(during):
            return "connection closed during \(during)"
        }
    }

    /// A printable, bounded rendering of bytes from the wire for an error message.
    static func quote(_ bytes: some Collection<UInt8>, limit: Int = 80) -> String {
        var text = ""
        for byte in bytes.prefix(limit) {
            if byte >= 0x20 && byte < 0x7F {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return bytes.count > limit ? text + "..." : text
    }
}
