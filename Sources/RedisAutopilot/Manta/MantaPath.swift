/// An absolute path in an account's Manta storage: `/LOGIN/stor/...` or
/// `/LOGIN/public/...` (MANTA_BUCKET in the original's settings). Kept as
/// segments so that a name can never add a level and the wire form is always
/// percent-encoded.
struct MantaPath: Sendable, Equatable, CustomStringConvertible {
    /// The top-level directories under an account that hold objects; they
    /// always exist and cannot be created.
    static let storageRoots: Set<String> = ["stor", "public"]

    /// `["LOGIN", "stor", ...]`, each non-empty and neither `.` nor `..`.
    let segments: [String]

    /// Trailing slashes are ignored, as Manta ignores them.
    init(parsing text: String) throws {
        func invalid(_ reason: String) -> MantaConfigurationError { .invalidDirectory(path: text, reason: reason) }
        guard text.hasPrefix("/") else { throw invalid("it must start with /LOGIN/stor/") }
        var trimmed = Substring(text)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let segments = trimmed.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 2, MantaNames.isValidLogin(segments[0]), Self.storageRoots.contains(segments[1]) else {
            throw invalid("it must be /LOGIN/stor or /LOGIN/public, or below them")
        }
        for segment in segments {
            guard !segment.isEmpty else { throw invalid("it has an empty path segment (//)") }
            guard segment != ".", segment != ".." else { throw invalid("it has a . or .. segment") }
            guard !segment.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw invalid("it contains a control character")
            }
        }
        self.segments = segments
    }

    private init(segments: [String]) {
        self.segments = segments
    }

    var login: String { segments[0] }

    var description: String { "/" + segments.joined(separator: "/") }

    /// The path of `name` in this directory; the caller has checked `name`
    /// (a backup name cannot hold a slash).
    func appending(_ name: String) -> MantaPath {
        MantaPath(segments: segments + [name])
    }

    /// The request target: every byte outside RFC 3986's unreserved set is
    /// percent-encoded, so no name can be read as a query or another path.
    var encoded: String {
        "/" + segments.map { PercentEncoding.encode($0) }.joined(separator: "/")
    }

    /// The directories PutDirectory must create, top down, for this one to
    /// exist: every level below `/LOGIN/stor`, this one included.
    var directoriesToCreate: [MantaPath] {
        guard segments.count > 2 else { return [] }
        return (3...segments.count).map { MantaPath(segments: Array(segments.prefix($0))) }
    }
}
