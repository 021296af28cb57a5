import Foundation

/// Backups as objects in one Manta directory (MANTA_BUCKET, e.g.
/// `/LOGIN/stor/triton-redis`), which is created with its missing parents
/// when an upload finds it missing. Nothing is listed before an upload: a
/// subuser whose role may put objects but not list them can back up.
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
/// Manta reserves room on its storage nodes for a whole upload before it
/// reads it: its Content-Length, or for one of unknown length (chunked) its
/// `Max-Content-Length`, which defaults to 5 GiB, more than many storage
/// nodes have free. Uploads send the most they can be.
///
/// Requests are retried as `MantaClient` says; `retry` sets how.
///
/// Not for concurrent use: one store serves one command.
final class MantaStore: RetryingBackupStore {
    static let defaultContentType = "application/gzip"

    let baseURL: HTTPBaseURL
    let directory: MantaPath
    let contentType: String
    private let client: MantaClient
    /// Entries asked for per ListDirectory page; smaller in tests, to page.
    var listPageSize = MantaClient.maximumPageSize

    /// From MANTA_URL, MANTA_USER, MANTA_SUBUSER, MANTA_ROLE, MANTA_KEY_ID,
    /// MANTA_PRIVATE_KEY and MANTA_BUCKET. A key that cannot be read or does
    /// not match MANTA_KEY_ID, or a bad login, role or directory, throws a
    /// `MantaConfigurationError` before any transport is made.
    convenience init(settings: MantaSettings, timeout: Double, contentType: String = MantaStore.defaultContentType,
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

    convenience init(baseURL: HTTPBaseURL, user: String, subuser: String? = nil, roles: [String] = [],
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
    init(baseURL: HTTPBaseURL, signer: MantaRequestSigner, directory: MantaPath, timeout: Double,
                contentType: String = MantaStore.defaultContentType, transport: HTTPTransport) {
        self.baseURL = baseURL
        self.directory = directory
        self.contentType = contentType
        client = MantaClient(transport: transport, signer: signer, timeout: timeout)
    }

    var description: String { "Manta \(baseURL)\(directory)" }

    var retry: RetryPolicy {
        get { client.retry }
        set { client.retry = newValue }
    }

    func put(name: String, from upload: UploadSource) throws {
        try BackupName.validate(name, store: description)
        let path = directory.appending(name)
        try perform("put", name: name) {
            var md5 = MD5()
            let send = {
                try self.client.putObject(path, length: upload.length, maximumLength: upload.maximumLength,
                                          contentType: self.contentType) {
                    md5 = MD5()
                    return ObservedByteSource(try upload.open()) { md5.update($0) }
                }
            }
            let stored: String
            do {
                stored = try send()
            } catch let error as MantaError where error.isMissingDirectory {
                for level in directory.directoriesToCreate {
                    try client.putDirectory(level)
                }
                stored = try send()
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
    func get(name: String, into sink: ByteSink) throws {
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
    func list() throws -> [BackupObject] {
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

    func delete(name: String) throws {
        try BackupName.validate(name, store: description)
        let path = directory.appending(name)
        try perform("delete", name: name, missingMeansNotFound: true) {
            try client.delete(path)
        }
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
