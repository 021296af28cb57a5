import Foundation

/// Backups as objects in one Manta directory (MANTA_BUCKET, e.g.
/// `/LOGIN/stor/triton-redis`), which is created with its missing parents
/// before the first upload.
///
/// Every transfer is checked end to end by MD5 without a second pass over
/// the data: an upload streams (its length is often unknown, so Content-MD5
/// cannot go first and Manta takes no trailers) while its MD5 is computed,
/// and is compared with the `Computed-MD5` Manta answers; a mismatch deletes
/// the object (backup names are unique, so nothing older is lost with it). A
/// download is compared with the object's `Content-MD5`. Manta replaces an
/// object only once a PUT completes, so an upload cut short leaves the
/// previous object of that name in place.
///
/// Manta caps an upload of unknown length (chunked) at its operator's
/// default, 5 GiB out of the box; a larger backup needs its length given.
///
/// Not for concurrent use: one store serves one command.
public final class MantaStore: BackupStore {
    public static let defaultContentType = "application/gzip"

    public let baseURL: HTTPBaseURL
    public let directory: MantaPath
    public let contentType: String
    private let client: MantaClient
    /// Set once the directory is known to exist, so that it is checked once
    /// per store and not before every upload.
    private var directoryExists = false
    /// Entries asked for per ListDirectory page; smaller in tests, to page.
    var listPageSize = MantaClient.maximumPageSize

    /// From MANTA_URL, MANTA_USER, MANTA_SUBUSER, MANTA_ROLE, MANTA_KEY_ID,
    /// MANTA_PRIVATE_KEY and MANTA_BUCKET. A key that cannot be read or does
    /// not match MANTA_KEY_ID, or a bad login, role or directory, throws a
    /// `MantaConfigurationError` before any transport is made.
    public convenience init(settings: MantaSettings, timeout: Double, contentType: String = MantaStore.defaultContentType,
                            transportFactory: (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0) }) throws {
        let privateKey: RSAPrivateKey
        do {
            privateKey = try RSAPrivateKey(parsing: settings.privateKey)
        } catch let error as CryptoError {
            throw MantaConfigurationError.invalidPrivateKey(error)
        }
        try self.init(baseURL: settings.url, user: settings.user, subuser: settings.subuser, roles: settings.roles,
                      privateKey: privateKey, keyID: settings.keyID, directory: settings.bucket, timeout: timeout,
                      contentType: contentType, transportFactory: transportFactory)
    }

    public convenience init(baseURL: HTTPBaseURL, user: String, subuser: String? = nil, roles: [String] = [],
                            privateKey: RSAPrivateKey, keyID: MantaKeyID? = nil, directory: String, timeout: Double,
                            contentType: String = MantaStore.defaultContentType,
                            transportFactory: (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0) }) throws {
        let signer = try MantaRequestSigner(user: user, subuser: subuser, roles: roles, privateKey: privateKey,
                                            expectedKeyID: keyID)
        let path = try MantaPath(parsing: directory)
        self.init(baseURL: baseURL, signer: signer, directory: path, timeout: timeout, contentType: contentType,
                  transport: transportFactory(baseURL))
    }

    /// `timeout` bounds each wait on Manta (connect, each read and write),
    /// not a whole transfer.
    public init(baseURL: HTTPBaseURL, signer: MantaRequestSigner, directory: MantaPath, timeout: Double,
                contentType: String = MantaStore.defaultContentType, transport: HTTPTransport) {
        self.baseURL = baseURL
        self.directory = directory
        self.contentType = contentType
        client = MantaClient(transport: transport, signer: signer, timeout: timeout)
    }

    public var description: String { "Manta \(baseURL)\(directory)" }

    public func put(name: String, from source: ByteSource, length: Int?) throws {
        try BackupName.validate(name, store: description)
        let path = directory.appending(name)
        try perform("put", name: name) {
            try ensureDirectory()
            var md5 = MD5()
            let observed = ObservedByteSource(source) { md5.update($0) }
            let stored: String
            do {
                stored = try client.putObject(path, from: observed, length: length, contentType: contentType)
            } catch let error as MantaError where error.isMissingDirectory {
                // Deleted since this store made sure of it. The body is spent
                // and cannot be sent again; the next put creates the directory.
                directoryExists = false
                throw error
            }
            let sent = Data(md5.finalize()).base64EncodedString()
            guard stored == sent else {
                var deletionError: Error?
                do { try client.delete(path) } catch { deletionError = error }
                throw MantaError.uploadMD5Mismatch(path: path.description, sent: sent, stored: stored,
                                                   deletionError: deletionError)
            }
        }
    }

    /// On a digest mismatch the sink has received the damaged bytes; the
    /// error says so and the caller discards them.
    public func get(name: String, into sink: ByteSink) throws {
        try BackupName.validate(name, store: description)
        let path = directory.appending(name)
        try perform("get", name: name, missingMeansNotFound: true) {
            var md5 = MD5()
            let observed = ObservedByteSink(sink) { md5.update($0) }
            let announced = try client.getObject(path, into: observed)
            let received = Data(md5.finalize()).base64EncodedString()
            guard announced == received else {
                throw MantaError.downloadMD5Mismatch(path: path.description, announced: announced, received: received)
            }
        }
    }

    /// The objects whose names are valid backup names, sorted by name; a
    /// directory that does not exist yet holds none.
    public func list() throws -> [BackupObject] {
        try perform("list", name: nil) {
            var objects: [BackupObject] = []
            var marker: String?
            while true {
                let page: [MantaDirectoryEntry]
                do {
                    page = try client.listDirectory(directory, marker: marker, limit: listPageSize)
                } catch let error as MantaError where error.isNotFound && marker == nil {
                    return []
                }
                var fresh = page[...]
                if let marker, fresh.first?.name == marker { fresh = fresh.dropFirst() }
                for entry in fresh where entry.kind == .object && BackupName.problem(with: entry.name) == nil {
                    objects.append(BackupObject(name: entry.name, size: entry.size ?? 0, modified: entry.modified))
                }
                guard page.count == listPageSize, let last = fresh.last else { break }
                marker = last.name
            }
            return objects.sorted { $0.name < $1.name }
        }
    }

    public func delete(name: String) throws {
        try BackupName.validate(name, store: description)
        let path = directory.appending(name)
        try perform("delete", name: name, missingMeansNotFound: true) {
            try client.delete(path)
        }
    }

    /// One small listing per store when the directory exists (a GET, not a
    /// HEAD, so that a refusal comes with Manta's error code); PutDirectory
    /// for each level when it does not.
    private func ensureDirectory() throws {
        guard !directoryExists else { return }
        do {
            _ = try client.listDirectory(directory, marker: nil, limit: 1)
        } catch let error as MantaError where error.isNotFound {
            for level in directory.directoriesToCreate {
                try client.putDirectory(level)
            }
        }
        directoryExists = true
    }

    /// `missingMeansNotFound`: a 404 is the object's absence (get, delete),
    /// not a failure of the operation (a put under a vanished directory).
    private func perform<Result>(_ operation: String, name: String?, missingMeansNotFound: Bool = false,
                                 _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as MantaError where error.isNotFound && missingMeansNotFound {
            guard let name else { throw BackupStoreError.failed(store: description, name: nil, operation: operation, cause: error) }
            throw BackupStoreError.notFound(store: description, name: name)
        } catch let error as HTTPError {
            if case let .requestBodyLength(declared, actual) = error.failure, let name {
                throw BackupStoreError.lengthMismatch(store: description, name: name, expected: declared, actual: actual)
            }
            throw BackupStoreError.failed(store: description, name: name, operation: operation, cause: error)
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: operation, cause: error)
        }
    }
}
