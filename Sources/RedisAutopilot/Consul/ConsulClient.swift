import Foundation

/// A client of the local Consul agent's HTTP API. It needs only an
/// `HTTPTransport` pointed at the agent, so tests and the integration suite can
/// give it any transport (a recorder, a real socket to a Consul double).
/// Every call is bounded by `timeout` seconds; blocking queries add their wait.
final class ConsulClient {
    let transport: HTTPTransport
    let timeout: Double
    /// The caller's own deadline, when it has one: no call outlives it.
    let deadline: Deadline?
    private let token: String?

    /// Longest body text kept in an error: enough for Consul's one-line
    /// messages, short enough for a log line when a proxy answers with a page.
    static let errorBodyLimit = 512

    init(transport: HTTPTransport, token: String?, timeout: Double, deadline: Deadline? = nil) {
        self.transport = transport
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.timeout = timeout
        self.deadline = deadline
    }

    /// An answer and the target it came from, so that errors name the call.
    struct Exchange {
        let target: String
        let response: HTTPResponse
    }

    /// Sends one request. A 2xx answer, or one of the `accepted` statuses, is
    /// returned; any other status throws `ConsulError.http`.
    func exchange(
        _ method: String, _ target: ConsulRequestTarget, body: [UInt8]? = nil, json: Bool = false,
        accepted: Set<Int> = []
    ) throws -> Exchange {
        var headers = HTTPHeaders()
        if let token { headers.set("X-Consul-Token", token) }
        if json { headers.set("Content-Type", "application/json") }
        // A PUT always carries a body, if empty, so the transport sends
        // Content-Length: 0 as RFC 9110 asks for methods that define content.
        let requestBody: HTTPRequestBody = method == "PUT" ? .bytes(body ?? []) : .empty
        let request = HTTPRequest(method: method, target: target.text, headers: headers, body: requestBody)
        let response: HTTPResponse
        do {
            response = try transport.send(request, timeout: deadline.map { min(timeout, max(0.05, $0.remainingSeconds)) } ?? timeout)
        } catch {
            throw ConsulError.transport(method: method, path: target.text, underlying: error)
        }
        guard (200..<300).contains(response.status) || accepted.contains(response.status) else {
            throw ConsulError.http(
                method: method, path: target.text, status: response.status,
                body: excerpt(response.body, limit: Self.errorBodyLimit))
        }
        if response.headers[Self.filteredHeader]?.trimmingCharacters(in: .whitespaces).lowercased() == "true" {
            throw ConsulError.filteredByACL(method: method, path: target.text, needed: Self.readPermission(for: target.text))
        }
        return Exchange(target: target.text, response: response)
    }

    static let filteredHeader = "X-Consul-Results-Filtered-By-ACLs"

    /// The ACL rules a read of `target` needs, for the error that names them.
    static func readPermission(for target: String) -> String {
        let path = String(target.prefix { $0 != "?" })
        let name = String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "").removingPercentEncoding ?? ""
        if path.hasPrefix("/v1/health/service/") || path.hasPrefix("/v1/catalog/service/") {
            return "service:read on \"\(name)\" and node:read on its nodes"
        }
        if path == "/v1/agent/services" { return "service:read on this agent's services" }
        if path == "/v1/agent/checks" { return "service:read on this agent's services and node:read on its node" }
        if path.hasPrefix("/v1/kv/") { return "key:read under \"\(String(path.dropFirst("/v1/kv/".count)).removingPercentEncoding ?? "")\"" }
        if path.hasPrefix("/v1/session/") { return "session:read" }
        return "read access to \(path)"
    }

    func encodeJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(value))
    }

    func decode<T: Decodable>(_ type: T.Type, from exchange: Exchange) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(exchange.response.body))
        } catch let error as DecodingError {
            throw decodeError(exchange, Self.describe(error))
        } catch {
            throw decodeError(exchange, "\(error)")
        }
    }

    func decodeError(_ exchange: Exchange, _ message: String) -> ConsulError {
        .decode(path: exchange.target, message: message + "; body: " + excerpt(exchange.response.body, limit: 200))
    }

    /// Body text fit for an error message: truncated, and with the token
    /// scrubbed in case a proxy or a broken agent echoes the request back.
    private func excerpt(_ body: [UInt8], limit: Int) -> String {
        var text = String(decoding: body.prefix(limit), as: UTF8.self)
        if body.count > limit { text += "... (\(body.count - limit) more bytes)" }
        if let token { text = text.replacingOccurrences(of: token, with: "<token>") }
        return text
    }

    /// Where and what, without the document's values (a persisted check
    /// holds an ACL token).
    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "expected \(type) at \(at(context.codingPath))"
        case .valueNotFound(let type, let context):
            return "missing \(type) value at \(at(context.codingPath))"
        case .keyNotFound(let key, let context):
            return "missing field \"\(key.stringValue)\" at \(at(context.codingPath))"
        case .dataCorrupted(let context):
            return "\(context.debugDescription) at \(at(context.codingPath))"
        @unknown default:
            return "\(error)"
        }
    }
}

extension ConsulClient {
    /// The address of the Raft leader, or nil while the cluster has none
    /// (Consul then answers `""`).
    func leader() throws -> String? {
        let answer = try exchange("GET", ConsulRequestTarget("/v1/status/leader"))
        if answer.response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return nil }
        let leader = try decode(String.self, from: answer)
        return leader.isEmpty ? nil : leader
    }
}
