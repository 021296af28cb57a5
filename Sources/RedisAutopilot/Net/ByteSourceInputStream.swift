import Foundation

/// Presents a ByteSource as the InputStream URLSession pulls a request body
/// from. corelibs-foundation's URLSession reads `httpBodyStream` from inside
/// libcurl's read callback, one buffer at a time and only when the socket
/// can take more, so the body is never held whole in memory.
///
/// The source is read on URLSession's work queue while `send` waits for the
/// transfer to finish; nothing else touches it meanwhile.
final class ByteSourceInputStream: InputStream {
    private let source: ByteSource
    private let declaredLength: Int?
    private let onRead: () -> Void
    private var status = Stream.Status.notOpen
    private var pending: [UInt8] = []
    private var exhausted = false
    private(set) var produced = 0
    /// Why the body stopped early: the source threw, or it gave a different
    /// length than declared. Read by the transport after the transfer.
    private(set) var failure: HTTPError.Failure?

    init(source: ByteSource, declaredLength: Int?, onRead: @escaping () -> Void) {
        self.source = source
        self.declaredLength = declaredLength
        self.onRead = onRead
        super.init(data: Data())
    }

    override func open() { status = .open }
    override func close() { status = .closed }
    override var streamStatus: Stream.Status { status }
    override var streamError: Error? { failure }
    override var hasBytesAvailable: Bool { !exhausted || !pending.isEmpty }

    override func getBuffer(_ buffer: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, length len: UnsafeMutablePointer<Int>) -> Bool {
        false
    }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength len: Int) -> Int {
        onRead()
        guard len > 0 else { return 0 }
        do {
            if pending.isEmpty && !exhausted {
                pending = try source.read(maxBytes: len)
                if pending.isEmpty { exhausted = true }
            }
        } catch {
            return fail(.requestBodyFailed(error))
        }
        let count = min(len, pending.count)
        if let declaredLength, produced + count > declaredLength || (count == 0 && produced < declaredLength) {
            return fail(.requestBodyLength(declared: declaredLength, actual: produced + count))
        }
        pending.withUnsafeBufferPointer { bytes in
            buffer.update(from: bytes.baseAddress!, count: count)
        }
        pending.removeFirst(count)
        produced += count
        if count == 0 { status = .atEnd }
        return count
    }

    private func fail(_ reason: HTTPError.Failure) -> Int {
        failure = reason
        status = .error
        return -1
    }
}
