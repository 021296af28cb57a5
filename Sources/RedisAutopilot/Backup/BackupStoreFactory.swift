/// The store BACKUP_STORE and its settings name.
public func makeBackupStore(settings: BackupSettings) throws -> BackupStore {
    switch settings.destination {
    case let .local(directory):
        return try LocalDirectoryStore(directory: directory)
    case .manta:
        throw BackupError.storeUnavailable(kind: "Manta")
    case .s3:
        throw BackupError.storeUnavailable(kind: "S3")
    }
}
