import Foundation

/// Manta refused a request, or answered in a way that cannot be trusted.
/// Messages carry Manta's own code and message, paths and MD5 digests, never
/// a request header (the signature) or key material.
enum MantaError: Error, CustomStringConvertible {
    /// A status other than the one expected. `code` and `message` come from
    /// Manta's JSON error body; `code` is nil when the body was something else
    /// (a proxy's page), and `message` then quotes the start of it.
    case refused(method: String, path: String, status: Int, code: String?, message: String)
    /// Manta's `Computed-MD5` for a stored object is not the MD5 of the bytes
    /// sent: the object was damaged on the way and has been deleted
    /// (`deletionError` says why it could not be, if so).
    case uploadMD5Mismatch(path: String, sent: String, stored: String, deletionError: Error?)
    /// The bytes received do not have the MD5 Manta announced in `Content-MD5`.
    case downloadMD5Mismatch(path: String, announced: String, received: String)
    /// A header Manta always sends was missing, so the transfer could not be checked.
    case missingHeader(method: String, path: String, header: String)
    case malformedListing(path: String, reason: String)
    /// Something other than a directory is where the backup directory should be.
    case notADirectory(path: String, found: String)

    var description: String {
        switch self {
        case let .refused(method, path, status, code?, message):
            return "Manta refused \(method) \(path): \(status) \(code): \(message)"
        case let .refused(method, path, status, nil, message):
            return "Manta refused \(method) \(path): \(status) \(message)"
        case let .uploadMD5Mismatch(path, sent, stored, nil):
            return "Manta stored \(path) with MD5 \(stored) but the bytes sent have MD5 \(sent); the damaged object was deleted"
        case let .uploadMD5Mismatch(path, sent, stored, deletionError?):
            return "Manta stored \(path) with MD5 \(stored) but the bytes sent have MD5 \(sent); deleting the damaged object failed: \(deletionError)"
        case let .downloadMD5Mismatch(path, announced, received):
            return "\(path) arrived with MD5 \(received) but Manta's Content-MD5 is \(announced)"
        case let .missingHeader(method, path, header):
            return "Manta's answer to \(method) \(path) has no \(header) header"
        case let .malformedListing(path, reason):
            return "Manta's listing of \(path) is malformed: \(reason)"
        case let .notADirectory(path, found):
            return "\(path) in Manta is not a directory (\(found))"
        }
    }

    /// The 404 `DirectoryDoesNotExist` of a PUT under a missing directory.
    var isMissingDirectory: Bool {
        if case let .refused(_, _, 404, code, _) = self { return code == "DirectoryDoesNotExist" }
        return false
    }

    var isNotFound: Bool {
        if case .refused(_, _, 404, _, _) = self { return true }
        return false
    }

    /// Reads Manta's `{"code": ..., "message": ...}` out of a refusal.
    static func refusal(_ response: HTTPResponse, method: String, path: MantaPath) -> MantaError {
        let maximumMessage = 300
        var code: String?
        var message: String
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
           let text = object["message"] as? String {
            code = (object["code"] as? String).map { printable($0, limit: 80) }
            message = text
        } else if !response.body.isEmpty {
            message = response.bodyText
        } else {
            message = response.reason.isEmpty ? "(no body)" : response.reason
        }
        message = printable(message, limit: maximumMessage)
        return .refused(method: method, path: path.description, status: response.status, code: code, message: message)
    }

    /// One line of at most `limit` characters: a body is shown in an error,
    /// and must not spill a page or terminal control codes into the log.
    private static func printable(_ text: String, limit: Int) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7F ? " " : $0
        }))
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "..." : cleaned
    }
}
