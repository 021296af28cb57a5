/// The store BACKUP_STORE and its settings name.
public func makeBackupStore(settings: BackupSettings) throws -> BackupStore {
    switch settings.destination {
    case let .local(directory):
        return try LocalDirectoryStore(directory: directory)
    case let .s3(s3):
        return try S3Store(configuration: S3StoreConfiguration(settings: s3))
    case .manta:
        throw BackupError.storeUnavailable(kind: "Manta")
    }
}
