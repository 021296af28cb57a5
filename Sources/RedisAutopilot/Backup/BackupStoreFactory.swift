/// Bound on each request to a remote store: a stalled connection fails the
/// backup instead of holding the job until its ContainerPilot timeout.
let backupStoreRequestTimeout: Double = 60

/// The store BACKUP_STORE and its settings name.
func makeBackupStore(settings: BackupSettings) throws -> BackupStore {
    switch settings.destination {
    case let .local(directory):
        return try LocalDirectoryStore(directory: directory)
    case let .s3(s3):
        return try S3Store(configuration: S3StoreConfiguration(settings: s3, timeout: backupStoreRequestTimeout))
    case let .manta(manta):
        return try MantaStore(settings: manta, timeout: backupStoreRequestTimeout)
    }
}
