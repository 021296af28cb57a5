/// A Manta setting that cannot work, found before any request is sent. Each
/// case names the environment variable the value comes from, so that the
/// message says what to fix; values shown are logins, role names, key
/// fingerprints and paths, never key material.
public enum MantaConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalidUser(String)
    case invalidSubuser(String)
    case invalidRole(String)
    /// MANTA_KEY_ID is neither an MD5 (`aa:bb:...`, optionally `MD5:`) nor a
    /// `SHA256:` fingerprint.
    case invalidKeyID(String)
    /// MANTA_KEY_ID names another key than MANTA_PRIVATE_KEY.
    case keyIDMismatch(given: String, md5: String, sha256: String)
    case invalidDirectory(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidUser(user):
            return "MANTA_USER \(String(reflecting: user)) is not a Manta login (ASCII letters, digits and _-.@%, starting with a letter)"
        case let .invalidSubuser(subuser):
            return "MANTA_SUBUSER \(String(reflecting: subuser)) is not a Manta login (ASCII letters, digits and _-.@%, starting with a letter)"
        case let .invalidRole(role):
            return "MANTA_ROLE has an invalid role name \(String(reflecting: role)) (expected comma-separated names of ASCII letters, digits and _-.)"
        case let .invalidKeyID(keyID):
            return "MANTA_KEY_ID \(String(reflecting: keyID)) is not a key fingerprint (expected MD5 like aa:bb:...:ff, or SHA256:... as ssh-keygen -l prints it)"
        case let .keyIDMismatch(given, md5, sha256):
            return "MANTA_KEY_ID \(given) does not match MANTA_PRIVATE_KEY, whose fingerprints are \(md5) and \(sha256)"
        case let .invalidDirectory(path, reason):
            return "Manta directory \(String(reflecting: path)) is invalid: \(reason)"
        }
    }
}

enum MantaLogin {
    /// The characters muskie's path and key id patterns accept in a login
    /// (`[a-zA-Z][a-zA-Z0-9_\-.@%]+`); anything else could not be in a path
    /// or would break the quoted keyId.
    static func isValid(_ login: String) -> Bool {
        let bytes = Array(login.utf8)
        guard let first = bytes.first, isLetter(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy { isLetter($0) || isDigit($0) || "_-.@%".utf8.contains($0) }
    }

    static func isValidRole(_ role: String) -> Bool {
        let bytes = Array(role.utf8)
        return !bytes.isEmpty && bytes.count <= 64 && bytes.allSatisfy { isLetter($0) || isDigit($0) || "_-.".utf8.contains($0) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
