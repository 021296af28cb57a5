import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One task's events, handed from URLSession's delegate queue to the thread
/// blocked in `send`, which alone touches the caller's sink.
final class URLSessionTransfer: @unchecked Sendable {
    enum Event {
        case response(HTTPURLResponse)
        case data(Data)
        case finished(Error?)
        /// Nothing happened for longer than the idle timeout.
        case silence
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var lastActivity = Deadline.now

    func post(_ event: Event) {
        condition.lock()
        events.append(event)
        lastActivity = .now
        condition.signal()
        condition.unlock()
    }

    /// Progress that carries no event, such as body bytes being sent.
    func touch() {
        condition.lock()
        lastActivity = .now
        condition.unlock()
    }

    /// The next event, or `.silence` once `idleTimeout` passes without activity.
    func next(idleTimeout: Double) -> Event {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty {
            let quietFor = Double(Deadline.now.nanoseconds &- lastActivity.nanoseconds) / 1e9
            if quietFor >= idleTimeout { return .silence }
            _ = condition.wait(until: Date(timeIntervalSinceNow: idleTimeout - quietFor))
        }
        return events.removeFirst()
    }
}

/// The session's delegate: routes each task's callbacks to its transfer.
final class URLSessionEventRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var transfers: [Int: URLSessionTransfer] = [:]

    func register(_ transfer: URLSessionTransfer, for task: URLSessionTask) {
        lock.withLock { transfers[task.taskIdentifier] = transfer }
    }

    func unregister(_ task: URLSessionTask) {
        _ = lock.withLock { transfers.removeValue(forKey: task.taskIdentifier) }
    }

    private func transfer(for task: URLSessionTask) -> URLSessionTransfer? {
        lock.withLock { transfers[task.taskIdentifier] }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse, completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let response = response as? HTTPURLResponse {
            transfer(for: dataTask)?.post(.response(response))
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        transfer(for: dataTask)?.post(.data(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64, totalBytesSent: Int64, totalBytesExpectedToSend: Int64) {
        transfer(for: task)?.touch()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        transfer(for: task)?.post(.finished(error))
    }

    /// Redirects are returned, not followed, as HTTPClient does: a signed
    /// request must not be replayed elsewhere behind the caller's back.
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    /// A ByteSource cannot be rewound, so a body is never resent.
    func urlSession(_ session: URLSession, task: URLSessionTask, needNewBodyStream completionHandler: @escaping (InputStream?) -> Void) {
        completionHandler(nil)
    }
}
