/// What AUTH sends: a password alone (requirepass), or a Redis 6 ACL user
/// and its password. Printing, debugging or dumping it never shows the password.
struct RedisCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    var username: String?
    var password: String

    init(username: String? = nil, password: String) {
        self.username = username
        self.password = password
    }

    var authArguments: [String] {
        if let username { return ["AUTH", username, password] }
        return ["AUTH", password]
    }

    var description: String {
        "RedisCredentials(username: \(username.map { "'\($0)'" } ?? "default"), password: <redacted>)"
    }

    var debugDescription: String { description }

    var customMirror: Mirror {
        Mirror(self, children: ["username": username as Any, "password": "<redacted>"])
    }
}
