import CZlib

enum GzipError: Error, Equatable, CustomStringConvertible {
    case invalidLevel(Int)
    case invalidThreads(Int)
    case invalidBlockSize(Int)
    case invalidHeaderName(String)
    /// The input does not start with a gzip header.
    case notGzip
    /// zlib rejected the data (bad deflate data, CRC-32 or length mismatch);
    /// `offset` is how many compressed bytes had been read.
    case corrupt(offset: Int, message: String)
    /// The input ended inside a gzip member.
    case truncated(compressedBytes: Int)
    /// After a complete member came bytes that are not another gzip member.
    case trailingGarbage(offset: Int)
    case writeAfterFinish
    case zlib(operation: String, code: Int32, message: String)

    var description: String {
        switch self {
        case let .invalidLevel(level):
            return "gzip level \(level) is not in 0...9"
        case let .invalidThreads(threads):
            return "gzip needs at least 1 thread, not \(threads)"
        case let .invalidBlockSize(size):
            return "gzip block size \(size) is under the 32 KiB dictionary"
        case let .invalidHeaderName(name):
            return "gzip header name \(String(reflecting: name)) is not printable ASCII"
        case .notGzip:
            return "data is not gzip (bad header)"
        case let .corrupt(offset, message):
            return "corrupt gzip data near compressed byte \(offset): \(message)"
        case let .truncated(compressedBytes):
            return "gzip data truncated: ended after \(compressedBytes) bytes, inside a member"
        case let .trailingGarbage(offset):
            return "unexpected bytes after the end of the gzip data at compressed byte \(offset)"
        case .writeAfterFinish:
            return "gzip stream written after it was finished"
        case let .zlib(operation, code, message):
            return "zlib \(operation) failed (\(code)): \(message)"
        }
    }

    static func zlib(_ operation: String, _ code: Int32, _ stream: UnsafeMutablePointer<z_stream>) -> GzipError {
        let message = stream.pointee.msg.map { String(cString: $0) } ?? String(cString: zError(code))
        return .zlib(operation: operation, code: code, message: message)
    }
}

/// windowBits for deflateInit2/inflateInit2: a 32 KiB window (15), plus 16
/// for a gzip wrapper instead of zlib's, which makes inflate check the
/// member's CRC-32 and ISIZE trailer.
let gzipWindowBits: Int32 = 15 + 16
