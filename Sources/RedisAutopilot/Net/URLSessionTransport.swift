import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP through Foundation's URLSession, for https:// (Manta, S3): TLS comes
/// from the system's libcurl and OpenSSL with the system's trusted CAs.
///
/// Memory: a request body streams from its ByteSource through an InputStream
/// that libcurl pulls one buffer at a time, so an upload holds one piece.
/// A response body is handed to the sink as it arrives, but corelibs
/// URLSession cannot pause a transfer, so if the sink is slower than the
/// network, received data queues in memory until the sink catches up.
///
/// Differences from HTTPClient that callers may notice: response header
/// order is lost and repeated fields arrive joined by ", " (URLSession keeps
/// a dictionary); the reason phrase is not available; URLSession adds
/// User-Agent, Accept-Language and a keep-alive connection pool; a GET
/// cannot carry a body.
///
/// Known corelibs defect (seen with Swift 6.3.1): a chunked response that
/// ends with trailer fields stops the whole process with "Transfer completed,
/// but there's no response" (a trailer line is taken for a new header).
/// Manta and S3 send no response trailers; a server that does must be
/// reached over http:// with HTTPClient, which parses them.
public final class URLSessionTransport: HTTPTransport {
    public let baseURL: HTTPBaseURL
    public let maxBufferedBodyBytes: Int
    private let session: URLSession
    private let router = URLSessionEventRouter()
    private let encoder: HTTPRequestEncoder

    public init(baseURL: HTTPBaseURL, maxBufferedBodyBytes: Int = HTTPResponse.defaultMaxBufferedBodyBytes) {
        self.baseURL = baseURL
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.encoder = HTTPRequestEncoder(baseURL: baseURL)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: router, delegateQueue: queue)
    }

    deinit {
        // The session keeps its delegate alive until it is invalidated.
        session.invalidateAndCancel()
    }

    public func send(_ request: HTTPRequest, timeout: Double) throws -> HTTPResponse {
        try exchange(request, sink: nil, timeout: timeout)
    }

    public func send(_ request: HTTPRequest, into sink: ByteSink, timeout: Double) throws -> HTTPResponse {
        try exchange(request, sink: sink, timeout: timeout)
    }

    private func exchange(_ request: HTTPRequest, sink: ByteSink?, timeout: Double) throws -> HTTPResponse {
        let transfer = URLSessionTransfer()
        var bodyStream: ByteSourceInputStream?
        do {
            let urlRequest = try makeURLRequest(request, timeout: timeout, transfer: transfer, bodyStream: &bodyStream)
            let task = session.dataTask(with: urlRequest)
            router.register(transfer, for: task)
            defer { router.unregister(task) }
            task.resume()
            do {
                return try receive(task: task, transfer: transfer, sink: sink, timeout: timeout)
            } catch {
                task.cancel()
                // A failing body source aborts the transfer with a generic
                // error; the stream knows the real cause.
                if let failure = bodyStream?.failure { throw failure }
                throw error
            }
        } catch let failure as HTTPError.Failure {
            throw HTTPError(method: request.method, target: baseURL.fullTarget(request.target), host: baseURL.hostHeader, failure: failure)
        }
    }

    private func makeURLRequest(_ request: HTTPRequest, timeout: Double, transfer: URLSessionTransfer, bodyStream: inout ByteSourceInputStream?) throws -> URLRequest {
        try HTTPRequestEncoder.validate(timeout: timeout)
        try encoder.validate(request)
        guard let url = URL(string: baseURL.urlString(for: request.target)) else {
            throw HTTPError.Failure.invalidRequest("not a URL: \(baseURL.hostHeader)\(request.target.prefix { $0 != "?" })")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        // corelibs arms its idle timer with whole seconds, truncated; our own
        // watchdog in `receive` keeps the exact value.
        urlRequest.timeoutInterval = max(1, timeout.rounded(.up))
        for field in request.headers where !HTTPRequestEncoder.framingHeaders.contains(field.name.lowercased()) {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name)
        }
        // Bodies arrive as stored, as with HTTPClient; libcurl would otherwise decompress.
        if request.headers["Accept-Encoding"] == nil {
            urlRequest.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        }
        switch request.body {
        case .empty:
            break
        case let .bytes(bytes):
            urlRequest.httpBody = Data(bytes)
        case let .stream(length, source):
            let stream = ByteSourceInputStream(source: source, declaredLength: length, onRead: transfer.touch)
            if let length {
                // corelibs gives libcurl no length for a body stream, so
                // libcurl would send it chunked, and S3 refuses chunked
                // uploads. A blank custom Transfer-Encoding makes libcurl
                // drop its chunked framing and send nothing for that header;
                // our Content-Length then frames the body, and the stream
                // fails the transfer if the source disagrees with it.
                urlRequest.setValue(String(length), forHTTPHeaderField: "Content-Length")
                urlRequest.setValue(" ", forHTTPHeaderField: "Transfer-Encoding")
            }
            urlRequest.httpBodyStream = stream
            bodyStream = stream
        }
        if request.method.uppercased() == "GET", urlRequest.httpBody != nil || urlRequest.httpBodyStream != nil {
            throw HTTPError.Failure.invalidRequest("URLSession cannot send a GET with a body")
        }
        return urlRequest
    }

    private func receive(task: URLSessionTask, transfer: URLSessionTransfer, sink: ByteSink?, timeout: Double) throws -> HTTPResponse {
        var head: HTTPURLResponse?
        var collector: HTTPBodyCollector?
        while true {
            switch transfer.next(idleTimeout: timeout) {
            case let .response(response):
                head = response
                collector = HTTPBodyCollector(status: response.statusCode, sink: sink, maxBufferedBytes: maxBufferedBodyBytes)
            case let .data(data):
                try collector?.append([UInt8](data))
            case let .finished(error?):
                throw failure(for: error)
            case .finished(nil):
                guard let response = head ?? task.response as? HTTPURLResponse else {
                    throw HTTPError.Failure.transport("URLSession finished without a response")
                }
                return HTTPResponse(status: response.statusCode, headers: Self.headers(of: response), body: collector?.buffered ?? [])
            case .silence:
                throw HTTPError.Failure.network(.timeout(endpoint: baseURL.endpoint, operation: "request"))
            }
        }
    }

    private static func headers(of response: HTTPURLResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in response.allHeaderFields {
            headers.add(String(describing: name), String(describing: value))
        }
        return headers
    }

    private func failure(for error: Error) -> HTTPError.Failure {
        let endpoint = baseURL.endpoint
        let message = (error as NSError).localizedDescription
        guard let urlError = error as? URLError else { return .transport(message) }
        switch urlError.code {
        case .timedOut:
            return .network(.timeout(endpoint: endpoint, operation: "request"))
        case .cannotFindHost, .dnsLookupFailed:
            return .network(.resolve(endpoint: endpoint, message: message))
        case .cannotConnectToHost:
            return .network(.connect(endpoint: endpoint, message: message))
        case .networkConnectionLost:
            return .network(.closedByPeer(endpoint: endpoint))
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected:
            return .tls(message)
        default:
            // corelibs reports most libcurl failures as "unknown" and keeps
            // libcurl's own message, which names TLS problems.
            if message.contains("SSL") || message.contains("certificate") { return .tls(message) }
            return .transport("URLSession error \(urlError.code.rawValue): \(message)")
        }
    }
}
