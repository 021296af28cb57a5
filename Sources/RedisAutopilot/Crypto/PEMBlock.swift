import Foundation

/// The first PEM block of a text, as found in environment variables: lines
/// may be joined by `#` (the MANTA_PRIVATE_KEY convention), end in CRLF, or
/// carry surrounding whitespace.
struct PEMBlock {
    let label: String
    /// RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED`.
    let headers: [(name: String, value: String)]
    private let base64Body: String

    init(parsing text: String) throws {
        let normalized = text
            .replacingOccurrences(of: "#", with: "\n")
            .replacingOccurrences(of: "\r", with: "\n")
        guard let begin = normalized.range(of: "-----BEGIN ") else {
            throw CryptoError.noPEMBlock
        }
        guard let labelEnd = normalized.range(of: "-----", range: begin.upperBound..<normalized.endIndex) else {
            throw CryptoError.malformedKey(format: "PEM", reason: "the BEGIN line does not end in -----")
        }
        let rawLabel = String(normalized[begin.upperBound..<labelEnd.lowerBound])
        label = CryptoError.label(rawLabel)
        let endMarker = "-----END \(rawLabel)-----"
        guard let end = normalized.range(of: endMarker, range: labelEnd.upperBound..<normalized.endIndex) else {
            throw CryptoError.malformedKey(format: "PEM", reason: "no END line matching BEGIN \(label)")
        }

        let lines = normalized[labelEnd.upperBound..<end.lowerBound]
            .split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var headers: [(name: String, value: String)] = []
        var bodyLines = lines[...]
        while let line = bodyLines.first, let colon = line.firstIndex(of: ":") {
            headers.append((name: String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                            value: String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            bodyLines = bodyLines.dropFirst()
        }
        self.headers = headers
        base64Body = bodyLines.joined().filter { !$0.isWhitespace }
    }

    /// RFC 1421 encryption, as `openssl rsa -aes256` still writes it.
    var isEncrypted: Bool {
        headers.contains { $0.name.lowercased() == "proc-type" && $0.value.uppercased().contains("ENCRYPTED") }
    }

    func decodedBody() throws -> [UInt8] {
        guard !base64Body.isEmpty else {
            throw CryptoError.malformedKey(format: "PEM", reason: "the \(label) block is empty")
        }
        guard let data = Data(base64Encoded: base64Body) else {
            throw CryptoError.malformedKey(format: "PEM", reason: "the \(label) block is not valid base64")
        }
        return [UInt8](data)
    }
}
