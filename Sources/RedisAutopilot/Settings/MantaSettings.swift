import Foundation

/// The key a Manta request is signed with, as the operator gave it.
enum MantaKeyID: Sendable, Equatable, CustomStringConvertible {
    /// 16 bytes: the fingerprint Manta expects on the wire.
    case md5([UInt8])
    /// 32 bytes, as `ssh-keygen -l` prints today; the MD5 one is then
    /// derived from the key itself.
    case sha256([UInt8])

    var description: String {
        switch self {
        case .md5(let bytes):
            return bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
        case .sha256(let bytes):
            var text = Data(bytes).base64EncodedString()
            while text.hasSuffix("=") { text.removeLast() }
            return "SHA256:" + text
        }
    }

    static func parse(_ text: String) throws(InvalidValue) -> MantaKeyID {
        let invalid = InvalidValue(expected: "an MD5 fingerprint (aa:bb:...:ff, 16 bytes) or SHA256:<base64>")
        if text.hasPrefix("SHA256:") {
            var base64 = String(text.dropFirst("SHA256:".count))
            while base64.count % 4 != 0 { base64 += "=" }
            guard let bytes = Data(base64Encoded: base64), bytes.count == 32 else { throw invalid }
            return .sha256(Array(bytes))
        }
        // `ssh-keygen -E md5 -l` prints the prefix; Manta's tools leave it out.
        let hex = text.hasPrefix("MD5:") ? String(text.dropFirst("MD5:".count)) : text
        let groups = hex.split(separator: ":", omittingEmptySubsequences: false)
        guard groups.count == 16 else { throw invalid }
        var bytes: [UInt8] = []
        for group in groups {
            guard group.count == 2, group.allSatisfy(\.isHexDigit), let byte = UInt8(group, radix: 16) else { throw invalid }
            bytes.append(byte)
        }
        return .md5(bytes)
    }
}

/// Joyent Manta object storage, the original project's backup store.
struct MantaSettings: Sendable, Equatable {
    /// `MANTA_URL`
    var url: HTTPBaseURL
    /// `MANTA_USER`: the account login.
    var user: String
    /// `MANTA_SUBUSER`
    var subuser: String?
    /// `MANTA_ROLE`: sent as the `Role` header.
    var roles: [String]
    /// `MANTA_KEY_ID`: nil means derive the fingerprint from the key.
    var keyID: MantaKeyID?
    /// `MANTA_PRIVATE_KEY` (secret) as given: `#` may stand for newlines,
    /// which the key parser converts.
    var privateKey: String
    /// `MANTA_BUCKET`: the directory backups go to.
    var bucket: String

    /// Every variable is checked; the result exists only when the settings are
    /// complete. `requiredBecause` says why user and key must be present.
    static func read(from reader: inout EnvironmentReader, requiredBecause reason: String?) -> MantaSettings? {
        let url = reader.value("MANTA_URL", default: HTTPBaseURL(scheme: .https, host: "us-east.manta.joyent.com")) { text throws(InvalidValue) in
            try NetworkAddressText.httpBaseURL(text, allowsBareHostPort: false)
        }
        let user = reader.optional("MANTA_USER") { text throws(InvalidValue) in
            try ValueParsers.name(text, extraCharacters: "_.@-", what: "a Manta login")
        }
        let subuser = reader.optional("MANTA_SUBUSER") { text throws(InvalidValue) in
            try ValueParsers.name(text, extraCharacters: "_.@-", what: "a Manta sub-user login")
        }
        let roles = reader.value("MANTA_ROLE", default: [String]()) { text throws(InvalidValue) in
            var roles: [String] = []
            for role in text.split(separator: ",") {
                let name = String(role).trimmingWhitespace
                if name.isEmpty { continue }
                roles.append(try ValueParsers.name(name, extraCharacters: "_.-", what: "a comma-separated list of role names"))
            }
            return roles
        }
        let keyID = reader.optional("MANTA_KEY_ID", MantaKeyID.parse)
        let privateKey = reader.optional("MANTA_PRIVATE_KEY") { text throws(InvalidValue) in
            guard text.contains("-----BEGIN"), text.contains("PRIVATE KEY-----") else {
                throw InvalidValue(expected: "a PEM or OpenSSH private key (-----BEGIN ... PRIVATE KEY-----, # may stand for newlines)")
            }
            return text
        }
        let bucket = reader.optional("MANTA_BUCKET") { text throws(InvalidValue) in
            var path = try ValueParsers.absolutePath(text)
            while path.count > 1, path.hasSuffix("/") { path.removeLast() }
            guard path.count > 1 else { throw InvalidValue(expected: "a Manta directory such as /LOGIN/stor/triton-redis") }
            return path
        }

        if let reason {
            if !reader.isSet("MANTA_USER") { reader.reportMissing("MANTA_USER", because: reason) }
            if !reader.isSet("MANTA_PRIVATE_KEY") { reader.reportMissing("MANTA_PRIVATE_KEY", because: reason) }
        }
        guard let user, let privateKey else { return nil }
        return MantaSettings(
            url: url, user: user, subuser: subuser, roles: roles, keyID: keyID, privateKey: privateKey,
            bucket: bucket ?? "/\(user)/stor/triton-redis"
        )
    }
}
