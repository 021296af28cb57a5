/// Which backups BACKUP_KEEP lets go once a new one is recorded.
enum RetentionPlan {
    /// Names to delete: with `keep` > 0, every task backup but the newest
    /// `keep`, never `protected` (the one `last-backup` names). 0 keeps all.
    static func namesToDelete(stored: [String], keep: Int, protected: String) -> [String] {
        guard keep > 0 else { return [] }
        let newestFirst = Set(stored.filter(BackupNaming.isTaskBackup)).sorted(by: >)
        return newestFirst.dropFirst(keep).filter { $0 != protected }.sorted()
    }
}
