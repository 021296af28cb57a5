import Foundation
import Glibc

/// Signs Manta requests the way Manta's HTTP Signature scheme wants them:
/// a `Date` header (RFC 1123, GMT) and
/// `Authorization: Signature keyId="/LOGIN/keys/FP",algorithm="rsa-sha256",signature="B64"`
/// over the string `date: <Date>`, with `/LOGIN/SUBUSER/keys/FP` for a
/// subuser and a `Role: a,b` header when roles are asked for.
///
/// FP on the wire is always the key's MD5 fingerprint: that is what Manta
/// looks keys up by. Its description names the key id, never the key.
struct MantaRequestSigner: Sendable, CustomStringConvertible {
    let user: String
    let subuser: String?
    let roles: [String]
    /// `/LOGIN/keys/FP` or `/LOGIN/SUBUSER/keys/FP`.
    let keyID: String
    private let key: RSAPrivateKey
    private let clock: @Sendable () -> Date

    /// `expectedKeyID` is MANTA_KEY_ID when set: the fingerprint, MD5 or
    /// SHA256, of the key the operator registered with Manta. A key that does
    /// not match it is refused here rather than by Manta with a 403 on every
    /// request.
    init(user: String, subuser: String? = nil, roles: [String] = [], privateKey: RSAPrivateKey,
                expectedKeyID: MantaKeyID? = nil, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        guard MantaNames.isValidLogin(user) else { throw MantaConfigurationError.invalidUser(user) }
        if let subuser, !MantaNames.isValidLogin(subuser) { throw MantaConfigurationError.invalidSubuser(subuser) }
        if let bad = roles.first(where: { !MantaNames.isValidRole($0) }) { throw MantaConfigurationError.invalidRole(bad) }
        if let expectedKeyID, !Self.matches(expectedKeyID, privateKey.publicKey) {
            throw MantaConfigurationError.keyIDMismatch(given: expectedKeyID, md5: privateKey.md5Fingerprint,
                                                        sha256: privateKey.sha256Fingerprint)
        }
        self.user = user
        self.subuser = subuser
        self.roles = roles
        self.key = privateKey
        self.clock = clock
        let owner = subuser.map { "/\(user)/\($0)" } ?? "/\(user)"
        keyID = "\(owner)/keys/\(privateKey.md5Fingerprint)"
    }

    var description: String { "Manta signer for \(keyID)" }

    /// Sets `Date`, `Authorization` and, with roles, `Role` on `headers`.
    func sign(_ headers: inout HTTPHeaders) throws {
        let date = Self.httpDate(clock())
        headers.set("Date", date)
        headers.set("Authorization", try authorization(date: date))
        if !roles.isEmpty { headers.set("Role", roles.joined(separator: ",")) }
    }

    /// No space after the commas: Manta's parser refuses one.
    func authorization(date: String) throws -> String {
        let signature = try key.sign("date: \(date)", digest: .sha256)
        return "Signature keyId=\"\(keyID)\",algorithm=\"rsa-sha256\",signature=\"\(Data(signature).base64EncodedString())\""
    }

    /// RFC 1123 in English whatever the process locale, as HTTP wants it:
    /// `Sun, 05 Jan 2014 21:31:40 GMT`.
    static func httpDate(_ date: Date) -> String {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = days[Int(parts.tm_wday) % 7], month = months[Int(parts.tm_mon) % 12]
        return "\(weekday), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    private static func matches(_ keyID: MantaKeyID, _ key: RSAPublicKey) -> Bool {
        switch keyID {
        case let .md5(digest): return MD5.digest(key.sshWireBlob) == digest
        case let .sha256(digest): return SHA256.digest(key.sshWireBlob) == digest
        }
    }
}
