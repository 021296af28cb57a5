/// A Manta setting that cannot work, found before any request is sent. Each
/// case names the environment variable the value comes from, so that the
/// message says what to fix; values shown are logins, role names, key
/// fingerprints and paths, never key material.
enum MantaConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalidUser(String)
    case invalidSubuser(String)
    case invalidRole(String)
    /// MANTA_PRIVATE_KEY could not be read as an RSA key; the crypto error
    /// names the format problem, never the key's content.
    case invalidPrivateKey(CryptoError)
    /// MANTA_KEY_ID names another key than MANTA_PRIVATE_KEY.
    case keyIDMismatch(given: MantaKeyID, md5: String, sha256: String)
    case invalidDirectory(path: String, reason: String)

    var description: String {
        switch self {
        case let .invalidUser(user):
            return "MANTA_USER \(String(reflecting: user)) is not a Manta login (\(MantaNames.loginRule))"
        case let .invalidSubuser(subuser):
            return "MANTA_SUBUSER \(String(reflecting: subuser)) is not a Manta login (\(MantaNames.loginRule))"
        case let .invalidRole(role):
            return "MANTA_ROLE has an invalid role name \(String(reflecting: role)) (\(MantaNames.roleRule))"
        case let .invalidPrivateKey(error):
            return "MANTA_PRIVATE_KEY cannot sign Manta requests: \(error)"
        case let .keyIDMismatch(given, md5, sha256):
            return "MANTA_KEY_ID \(given) does not match MANTA_PRIVATE_KEY, whose fingerprints are \(md5) and \(sha256)"
        case let .invalidDirectory(path, reason):
            return "Manta directory \(String(reflecting: path)) is invalid: \(reason)"
        }
    }
}

/// Logins and role names go into the quoted keyId, the `Role` header and
/// paths: the same rules Settings applies to MANTA_USER and MANTA_ROLE, so
/// that a value built elsewhere cannot reshape a request either.
enum MantaNames {
    static let loginExtraCharacters = "_.@-"
    static let roleExtraCharacters = "_.-"
    static let loginRule = "ASCII letters, digits and \(loginExtraCharacters)"
    static let roleRule = "comma-separated names of ASCII letters, digits and \(roleExtraCharacters)"

    static func isValidLogin(_ login: String) -> Bool {
        isValid(login, extraCharacters: loginExtraCharacters, what: "a Manta login")
    }

    static func isValidRole(_ role: String) -> Bool {
        isValid(role, extraCharacters: roleExtraCharacters, what: "a role name")
    }

    private static func isValid(_ text: String, extraCharacters: String, what: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 256 else { return false }
        do {
            _ = try ValueParsers.name(text, extraCharacters: extraCharacters, what: what)
            return true
        } catch {
            return false
        }
    }
}
