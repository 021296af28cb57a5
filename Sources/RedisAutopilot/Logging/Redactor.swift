import Foundation

/// Replaces every known secret in a piece of text with `***`. Callers must
/// not log secrets in the first place; this catches the ones that slip in
/// through an error message or a server's answer.
struct Redactor: Sendable {
    static let mask = "***"

    /// Longest first, so that a secret containing another is hidden whole.
    private let secrets: [String]

    init(secrets: [String]) {
        self.secrets = Set(secrets.filter { !$0.isEmpty }).sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Redactor.mask)
        }
        return result
    }
}
