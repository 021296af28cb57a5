import Foundation

/// Where backups go, resolved from `BACKUP_STORE` and the credentials present.
enum BackupDestination: Sendable, Equatable {
    case local(directory: String)
    case manta(MantaSettings)
    case s3(S3Settings)
}

/// `RESTORE_ON_FAILURE`: what the first master of an empty cluster does when
/// the last backup cannot be restored.
enum RestoreFailurePolicy: String, Sendable, Equatable {
    /// Refuse to start, so that nobody writes over data that might still be recovered.
    case fail
    /// Start empty and say so.
    case empty
}

struct BackupSettings: Sendable, Equatable {
    /// `BACKUP_TTL`: the cluster-wide interval between two backups.
    var interval: Duration
    /// `BACKUP_KEEP`: how many backups to keep; 0 keeps all.
    var keep: Int
    /// `BACKUP_STORE` with `BACKUP_DIR`, the `MANTA_*` or the S3 variables.
    var destination: BackupDestination
    /// `BACKUP_SAVE_TIMEOUT`: bound on BGSAVE plus the upload.
    var saveTimeout: Duration
    /// `BACKUP_CHECK_INTERVAL`: how often the backup job runs; the json5 reads
    /// it too. ContainerPilot kills the job at this interval (a periodic job's
    /// timeout), so a backup must end, and say why, before then.
    var checkInterval: Duration
    /// `RESTORE_ON_FAILURE`
    var restoreOnFailure: RestoreFailurePolicy
    /// `BACKUP_COMPRESSION_LEVEL`: gzip's level, 1 (fastest) to 9 (smallest).
    var compressionLevel: Int = GzipCompressingSource.defaultLevel
    /// `BACKUP_COMPRESSION_THREADS`: threads deflating at once; by default
    /// one per core this process may run on.
    var compressionThreads: Int = BackupSettings.activeCores
    /// `BACKUP_STORE=auto` found neither S3 nor Manta settings: the local
    /// store was not asked for, so nobody said that BACKUP_DIR is shared.
    var fellBackToLocal: Bool = false

    /// Room between the end of a timed-out backup (its error logged, its
    /// lock released) and ContainerPilot's SIGKILL at the job's timeout.
    static let killMargin: Duration = .seconds(30)

    /// Bounds a typo (the memory a backup takes grows with it), far above
    /// the cores of any host this runs on.
    static let maximumCompressionThreads = 256

    static var activeCores: Int {
        min(maximumCompressionThreads, max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    private enum StoreChoice: String {
        case auto, manta, s3, local
    }

    static func read(from reader: inout EnvironmentReader) -> BackupSettings {
        let interval = reader.value("BACKUP_TTL", default: .seconds(86400)) { text throws(InvalidValue) in
            try ValueParsers.duration(text, minimum: .seconds(1))
        }
        let keep = reader.value("BACKUP_KEEP", default: 0) { text throws(InvalidValue) in
            try ValueParsers.integer(text, in: 0...Int.max)
        }
        let choice = reader.value("BACKUP_STORE", default: StoreChoice.auto) { text throws(InvalidValue) in
            try ValueParsers.choice(text, ["auto": .auto, "manta": .manta, "s3": .s3, "local": .local])
        }
        let directory = reader.value("BACKUP_DIR", default: "/var/backups/redis", ValueParsers.absolutePath)
        let checkInterval = reader.value("BACKUP_CHECK_INTERVAL", default: .seconds(600)) { text throws(InvalidValue) in
            try ValueParsers.duration(text, minimum: .seconds(60))
        }
        let saveTimeout = reader.value("BACKUP_SAVE_TIMEOUT", default: checkInterval - Self.killMargin) { text throws(InvalidValue) in
            try ValueParsers.duration(text, minimum: .seconds(1))
        }
        if saveTimeout > checkInterval - Self.killMargin {
            reader.report("BACKUP_SAVE_TIMEOUT", expected: "at most BACKUP_CHECK_INTERVAL minus 30s (\(DurationText.format(checkInterval - Self.killMargin))): "
                + "ContainerPilot kills the backup job at its interval; raise BACKUP_CHECK_INTERVAL with it")
        }
        let restoreOnFailure = reader.value("RESTORE_ON_FAILURE", default: RestoreFailurePolicy.fail) { text throws(InvalidValue) in
            try ValueParsers.choice(text, ["fail": .fail, "empty": .empty])
        }

        let compressionLevel = reader.value("BACKUP_COMPRESSION_LEVEL", default: GzipCompressingSource.defaultLevel) { text throws(InvalidValue) in
            try ValueParsers.integer(text, in: 1...9)
        }
        let compressionThreads = reader.value("BACKUP_COMPRESSION_THREADS", default: Self.activeCores) { text throws(InvalidValue) in
            try ValueParsers.integer(text, in: 1...Self.maximumCompressionThreads)
        }

        let resolved: StoreChoice
        let reason: String
        switch choice {
        case .auto where reader.isSet("S3_BUCKET"):
            resolved = .s3
            reason = "when S3_BUCKET is set and BACKUP_STORE is auto"
        case .auto where reader.isSet("MANTA_USER"):
            resolved = .manta
            reason = "when MANTA_USER is set and BACKUP_STORE is auto"
        case .auto:
            resolved = .local
            reason = ""
        default:
            resolved = choice
            reason = "when BACKUP_STORE=\(choice.rawValue)"
        }

        // Both are read whatever the store, so that a bad value is reported
        // before someone switches stores and trips over it.
        let manta = MantaSettings.read(from: &reader, requiredBecause: resolved == .manta ? reason : nil)
        let s3 = S3Settings.read(from: &reader, requiredBecause: resolved == .s3 ? reason : nil)
        // A missing store was reported above; the local fallback only lets reading finish.
        let destination: BackupDestination
        switch resolved {
        case .manta: destination = manta.map(BackupDestination.manta) ?? .local(directory: directory)
        case .s3: destination = s3.map(BackupDestination.s3) ?? .local(directory: directory)
        case .local, .auto: destination = .local(directory: directory)
        }
        return BackupSettings(
            interval: interval, keep: keep, destination: destination, saveTimeout: saveTimeout, checkInterval: checkInterval,
            restoreOnFailure: restoreOnFailure, compressionLevel: compressionLevel, compressionThreads: compressionThreads,
            fellBackToLocal: choice == .auto && resolved == .local
        )
    }
}
