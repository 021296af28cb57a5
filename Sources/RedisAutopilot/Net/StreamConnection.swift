/// A connected byte stream whose every operation is bounded by a deadline:
/// a plain socket, or TLS over one. HTTP is spoken over either.
protocol StreamConnection: AnyObject {
    /// Writes every byte or throws.
    func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws
    /// Up to `maxBytes`, waiting until the deadline for at least one byte;
    /// empty at end of stream.
    func read(maxBytes: Int, deadline: Deadline) throws -> [UInt8]
    func close()
}

extension SocketConnection: StreamConnection {}
