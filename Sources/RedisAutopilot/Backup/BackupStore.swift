import Foundation

/// One stored backup as a store lists it.
struct BackupObject: Sendable, Equatable {
    var name: String
    var size: Int
    /// When the store last wrote the object, if the store says.
    var modified: Date?

    init(name: String, size: Int, modified: Date? = nil) {
        self.name = name
        self.size = size
        self.modified = modified
    }
}

/// What an upload sends: bytes that can be produced again from their first
/// one, so that a store can retry a PUT that failed halfway.
struct UploadSource {
    /// What the source must yield, when known (sent as Content-Length).
    var length: Int?
    /// The most it can yield, when only that is known: Manta reserves room
    /// for it (Max-Content-Length), S3 sizes its parts by it.
    var maximumLength: Int?
    /// A fresh source from the first byte; called once per attempt.
    var open: () throws -> ByteSource

    init(length: Int?, maximumLength: Int? = nil, open: @escaping () throws -> ByteSource) {
        self.length = length
        self.maximumLength = maximumLength
        self.open = open
    }
}

/// Where backups live: a Manta directory, an S3 bucket prefix or a local
/// directory. Objects are flat (no directories) and named by
/// `BackupName.validate`'s rules. Every failure is a `BackupStoreError`.
protocol BackupStore: AnyObject, CustomStringConvertible {
    /// Stores the bytes the upload yields up to its end under `name`,
    /// replacing any object of that name only once all of it is stored.
    func put(name: String, from upload: UploadSource) throws
    /// Writes the object's bytes into `sink`. On failure the sink may have
    /// received part of them.
    func get(name: String, into sink: ByteSink) throws
    func list() throws -> [BackupObject]
    func delete(name: String) throws
    /// The kind of store and where it is, never a credential.
    var description: String { get }
}

extension BackupStore {
    /// Stores what `source` yields. The expression is evaluated once per
    /// attempt, so it must make a fresh source each time (`BytesSource(x)`,
    /// not a variable holding one).
    func put(name: String, from source: @autoclosure @escaping () throws -> ByteSource, length: Int?) throws {
        try put(name: name, from: UploadSource(length: length, open: source))
    }
}

/// A store over the network, whose requests are retried by `retry`.
protocol RetryingBackupStore: BackupStore {
    var retry: RetryPolicy { get set }
}

extension BackupStore {
    /// Keeps the store's retries within a hook's deadline and tells `report`
    /// of each; a local store does not retry.
    func retry(within deadline: Deadline, report: @escaping (String) -> Void) {
        guard let retrying = self as? RetryingBackupStore else { return }
        retrying.retry.deadline = deadline
        retrying.retry.report = report
    }
}

enum BackupStoreError: Error, CustomStringConvertible {
    case invalidName(store: String, name: String, reason: String)
    case notFound(store: String, name: String)
    case lengthMismatch(store: String, name: String, expected: Int, actual: Int)
    /// `name` is nil for an operation on the whole store (list).
    case failed(store: String, name: String?, operation: String, cause: Error)

    var description: String {
        switch self {
        case let .invalidName(store, name, reason):
            return "invalid backup name \(String(reflecting: name)) for \(store): \(reason)"
        case let .notFound(store, name):
            return "backup \(name) not found in \(store)"
        case let .lengthMismatch(store, name, expected, actual):
            return "backup \(name) for \(store): source gave \(actual) bytes, \(expected) were announced"
        case let .failed(store, name?, operation, cause):
            return "\(operation) of backup \(name) in \(store) failed: \(cause)"
        case let .failed(store, nil, operation, cause):
            return "\(operation) in \(store) failed: \(cause)"
        }
    }
}

/// The rule every store applies to object names, so that a name is the same
/// valid key everywhere and can never leave the store: no path separator,
/// no `..`, nothing a URL or a shell would read specially.
enum BackupName {
    static let maximumLength = 200
    private static let allowedPunctuation = Set("._-+=,@:".utf8)

    /// Throws `BackupStoreError.invalidName` unless `name` is 1 to 200 of
    /// ASCII letters, digits and `._-+=,@:`, without `..` and not starting
    /// with a dot (hidden names are where a local store keeps its temporary
    /// files).
    static func validate(_ name: String, store: String) throws {
        if let reason = problem(with: name) {
            throw BackupStoreError.invalidName(store: store, name: name, reason: reason)
        }
    }

    static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "it is empty" }
        if bytes.count > maximumLength { return "it is longer than \(maximumLength) bytes" }
        if bytes.first == UInt8(ascii: ".") { return "it starts with a dot" }
        if name.contains("..") { return "it contains .." }
        let isAllowed: (UInt8) -> Bool = { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || allowedPunctuation.contains(byte)
        }
        guard bytes.allSatisfy(isAllowed) else {
            return "only ASCII letters, digits and ._-+=,@: are allowed"
        }
        return nil
    }
}
