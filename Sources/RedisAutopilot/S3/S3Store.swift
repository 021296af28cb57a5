import Foundation

/// Plain values an `S3Store` is made from.
struct S3StoreConfiguration: Sendable {
    /// An S3-compatible server (it may have a path prefix); nil for AWS
    /// itself (`https://s3.<region>.amazonaws.com`).
    var endpoint: HTTPBaseURL?
    var region: String
    var bucket: String
    /// Put verbatim before every backup name: `redis/` stores `redis/<name>`.
    var prefix: String
    var credentials: SigV4Credentials
    var addressingStyle: S3AddressingStyle
    /// Objects up to this size go in one PutObject, larger ones in parts of
    /// this size; one part is held in memory. 5 MiB (S3's minimum) to 5 GiB.
    var partSize: Int
    /// The longest S3 may stay silent, per connect, read or write.
    var timeout: Double
    var contentType: String

    static let defaultPartSize = 16 * 1024 * 1024

    /// `addressingStyle` nil: virtual-host on AWS, path style on a custom
    /// endpoint, which is what S3-compatible servers expect.
    init(endpoint: HTTPBaseURL? = nil, region: String, bucket: String, prefix: String = "",
                credentials: SigV4Credentials, addressingStyle: S3AddressingStyle? = nil,
                partSize: Int = S3StoreConfiguration.defaultPartSize, timeout: Double = 60,
                contentType: String = "application/gzip") {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.credentials = credentials
        self.addressingStyle = addressingStyle ?? (endpoint == nil ? .virtual : .path)
        self.partSize = partSize
        self.timeout = timeout
        self.contentType = contentType
    }

    /// The store the `AWS_*` and `S3_*` variables describe.
    init(settings: S3Settings, timeout: Double = 60) {
        self.init(endpoint: settings.endpoint, region: settings.region, bucket: settings.bucket,
                  prefix: settings.prefix,
                  credentials: SigV4Credentials(accessKeyID: settings.accessKeyID, secretAccessKey: settings.secretAccessKey,
                                                sessionToken: settings.sessionToken),
                  addressingStyle: settings.addressingStyle, partSize: settings.partSize, timeout: timeout)
    }
}

/// Backups as objects of an S3 bucket (AWS or any S3-compatible server),
/// signed with Signature Version 4. Memory stays bounded by about one part
/// whatever the size of a backup; each part (or a small object) is held in
/// memory, so a failed PUT is sent again from it (see `S3Client` for what is
/// retried; `retry` sets how).
final class S3Store: RetryingBackupStore {
    let configuration: S3StoreConfiguration
    let description: String
    let client: S3Client
    private let keyPrefix: String
    /// ListObjectsV2's page size; S3's maximum unless a test forces paging.
    var listPageSize = 1000

    init(configuration: S3StoreConfiguration,
                transportFactory: (HTTPBaseURL) -> HTTPTransport = { HTTPClient(baseURL: $0) },
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        guard configuration.partSize >= S3Multipart.minimumPartSize,
              configuration.partSize <= S3Multipart.maximumPartSize else {
            throw S3Error.invalidConfiguration("part size \(configuration.partSize) is not between 5 MiB and 5 GiB")
        }
        guard configuration.timeout > 0 else {
            throw S3Error.invalidConfiguration("timeout \(configuration.timeout) is not positive")
        }
        guard !configuration.credentials.accessKeyID.isEmpty, !configuration.credentials.secretAccessKey.isEmpty else {
            throw S3Error.invalidConfiguration("the access key ID and the secret access key must not be empty")
        }
        guard !configuration.region.isEmpty else { throw S3Error.invalidConfiguration("the region must not be empty") }
        let address = try S3BucketAddress(endpoint: configuration.endpoint, region: configuration.region,
                                          bucket: configuration.bucket, style: configuration.addressingStyle)
        let signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3", clock: clock)
        self.configuration = configuration
        keyPrefix = configuration.prefix
        client = S3Client(address: address, signer: signer, transport: transportFactory(address.baseURL),
                          timeout: configuration.timeout)
        let endpoint = configuration.endpoint.map { "\($0)" } ?? "AWS \(configuration.region)"
        description = "S3 bucket \(configuration.bucket) at \(endpoint)" + (keyPrefix.isEmpty ? "" : ", prefix \(keyPrefix)")
    }

    func key(of name: String) -> String {
        keyPrefix + name
    }

    var retry: RetryPolicy {
        get { client.retry }
        set { client.retry = newValue }
    }

    func put(name: String, from upload: UploadSource) throws {
        try BackupName.validate(name, store: description)
        let key = key(of: name)
        let length = upload.length
        let partSize = S3Multipart.partSize(configured: configuration.partSize, length: length ?? upload.maximumLength)
        let source: ByteSource
        do {
            source = try upload.open()
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "put", cause: error)
        }
        let reader = S3PartReader(source: source, partSize: partSize)
        var part = try readPart(from: reader, name: name, length: length)
        if part.isLast {
            var request = S3Request(operation: "PutObject", method: "PUT", key: key, body: part.bytes)
            request.headers.set("Content-Type", configuration.contentType)
            request.sendsContentMD5 = true
            try perform(name: name, operation: "put") { _ = try client.send(request) }
            return
        }
        var upload = try perform(name: name, operation: "put") {
            try S3Multipart.start(client: client, key: key, partSize: partSize, contentType: configuration.contentType)
        }
        do {
            while true {
                try upload.upload(part: part.bytes)
                if part.isLast { break }
                // Dropped before the next part is read, so that only one
                // part is ever held.
                part.bytes = []
                part = try readPart(from: reader, name: name, length: length)
            }
            try upload.complete()
        } catch {
            let failure = error
            do {
                try upload.abort()
            } catch {
                throw wrap(S3Error.abortFailed(key: key, uploadID: upload.uploadID, failure: failure, abortFailure: error),
                           name: name, operation: "put")
            }
            throw wrap(failure, name: name, operation: "put")
        }
    }

    /// A part from the source, checked against the announced length as soon
    /// as the source gives more, or ends with less.
    private func readPart(from reader: S3PartReader, name: String, length: Int?) throws -> S3PartReader.Part {
        let part: S3PartReader.Part
        do {
            part = try reader.next()
        } catch {
            throw BackupStoreError.failed(store: description, name: name, operation: "put", cause: error)
        }
        if let length, reader.byteCount > length || (part.isLast && reader.byteCount != length) {
            throw BackupStoreError.lengthMismatch(store: description, name: name, expected: length, actual: reader.byteCount)
        }
        return part
    }

    func get(name: String, into sink: ByteSink) throws {
        try BackupName.validate(name, store: description)
        let request = S3Request(operation: "GetObject", method: "GET", key: key(of: name))
        try perform(name: name, operation: "get") { _ = try client.send(request, into: sink) }
    }

    /// The objects under the prefix whose names (the rest of the key) are
    /// valid backup names, sorted by name: keys with a further `/` and
    /// other objects are left out.
    func list() throws -> [BackupObject] {
        var objects: [BackupObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("delimiter", "/"), ("max-keys", String(listPageSize))]
            if !keyPrefix.isEmpty { query.append(("prefix", keyPrefix)) }
            if let token { query.append(("continuation-token", token)) }
            let request = S3Request(operation: "ListObjectsV2", method: "GET", key: nil, query: query)
            let page = try perform(name: nil, operation: "list") {
                try client.parse(try client.send(request), of: request, as: S3ListPage.init(element:))
            }
            for object in page.objects where object.key.hasPrefix(keyPrefix) {
                let name = String(object.key.dropFirst(keyPrefix.count))
                guard BackupName.problem(with: name) == nil else { continue }
                objects.append(BackupObject(name: name, size: object.size, modified: object.modified))
            }
            token = page.nextContinuationToken
        } while token != nil
        return objects.sorted { $0.name < $1.name }
    }

    /// S3's DeleteObject succeeds for a missing key; a HEAD first makes a
    /// missing backup `notFound` here as in the other stores.
    func delete(name: String) throws {
        try BackupName.validate(name, store: description)
        let key = key(of: name)
        try perform(name: name, operation: "delete") {
            _ = try client.send(S3Request(operation: "HeadObject", method: "HEAD", key: key))
            _ = try client.send(S3Request(operation: "DeleteObject", method: "DELETE", key: key))
        }
    }

    /// Multipart uploads under the prefix that were neither completed nor aborted.
    func incompleteUploads() throws -> [S3IncompleteUpload] {
        var uploads: [S3IncompleteUpload] = []
        var markers: (keyMarker: String, uploadIDMarker: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", keyPrefix)]
            if let markers {
                query += [("key-marker", markers.keyMarker), ("upload-id-marker", markers.uploadIDMarker)]
            }
            let request = S3Request(operation: "ListMultipartUploads", method: "GET", key: nil, query: query)
            let page = try perform(name: nil, operation: "list uploads") {
                try client.parse(try client.send(request), of: request, as: S3IncompleteUploadsPage.init(element:))
            }
            uploads += page.uploads
            markers = page.next
        } while markers != nil
        return uploads
    }

    private func perform<T>(name: String?, operation: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw wrap(error, name: name, operation: operation)
        }
    }

    private func wrap(_ error: Error, name: String?, operation: String) -> Error {
        if error is BackupStoreError { return error }
        if let name, let s3 = error as? S3Error, s3.httpStatus == 404,
           s3.code == nil || s3.code == "NoSuchKey" {
            return BackupStoreError.notFound(store: description, name: name)
        }
        return BackupStoreError.failed(store: description, name: name, operation: operation, cause: error)
    }
}
