import Foundation

/// What the first master of an empty cluster does with its data directory.
enum RestoreStep: Sendable, Equatable {
    case keepLocalData
    case startEmpty
    case restore(name: String)
}

struct RestorePlan: Sendable, Equatable {
    var step: RestoreStep
    var reason: String

    /// `localData` is `LocalData.evidence` of the data directory; `lastBackup`
    /// the value of `service/redis/last-backup`.
    static func decide(localData: [String], lastBackup: String?) -> RestorePlan {
        if !localData.isEmpty {
            return RestorePlan(step: .keepLocalData, reason: "data directory holds data (\(localData.joined(separator: ", "))); keeping it, no restore")
        }
        guard let name = lastBackup?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else {
            return RestorePlan(step: .startEmpty, reason: "no local data and no backup recorded in \(BackupKeys.lastBackup): a new cluster, starting empty")
        }
        return RestorePlan(step: .restore(name: name), reason: "no local data and \(BackupKeys.lastBackup) names \(name); restoring it")
    }
}
