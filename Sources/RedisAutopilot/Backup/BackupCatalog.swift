/// One backup as `backups list` shows it: what the store holds and what
/// Consul recorded, either of which may be missing.
struct BackupListing: Sendable, Equatable {
    var name: String
    var stored: BackupObject?
    var metadata: BackupMetadata?
    /// Why the metadata could not be read, when it could not.
    var metadataProblem: String?
    var isLast: Bool
}

enum BackupCatalog {
    /// Joins the store's listing and the metadata keys by backup name.
    /// Keys under the metadata prefix that are not metadata (the lock) are skipped.
    static func merge(stored: [BackupObject], metadataPairs: [ConsulKVPair], lastBackup: String?) -> [BackupListing] {
        var rows: [String: BackupListing] = [:]
        for object in stored {
            rows[object.name] = BackupListing(name: object.name, stored: object, metadata: nil, metadataProblem: nil, isLast: false)
        }
        for pair in metadataPairs where pair.key != BackupKeys.lock && pair.key.hasPrefix(BackupKeys.metadataPrefix) {
            let stem = String(pair.key.dropFirst(BackupKeys.metadataPrefix.count))
            guard !stem.isEmpty, !stem.contains("/") else { continue }
            var metadata: BackupMetadata?
            var problem: String?
            do {
                metadata = try BackupMetadata.decode(pair.value ?? [], key: pair.key)
            } catch {
                problem = "\(error)"
            }
            let name = metadata?.name ?? stem + BackupNaming.suffix
            var row = rows[name] ?? BackupListing(name: name, stored: nil, metadata: nil, metadataProblem: nil, isLast: false)
            row.metadata = metadata
            row.metadataProblem = problem
            rows[name] = row
        }
        if let lastBackup, rows[lastBackup] == nil {
            rows[lastBackup] = BackupListing(name: lastBackup, stored: nil, metadata: nil, metadataProblem: nil, isLast: true)
        }
        return rows.values.map { row in
            var row = row
            row.isLast = row.name == lastBackup
            return row
        }.sorted { $0.name < $1.name }
    }

    /// A plain-text table, one line per backup, oldest first. Names, nodes
    /// and hashes come from Consul and the store: control characters are
    /// shown escaped, never sent to the operator's terminal.
    static func render(_ rows: [BackupListing]) -> String {
        let header = ["", "NAME", "SAVED (UTC)", "RDB BYTES", "GZIP BYTES", "NODE", "IN STORE", "RDB SHA256"]
        let lines = rows.map { row -> [String] in
            let metadata = row.metadata
            return [
                row.isLast ? "*" : "",
                row.name,
                metadata.map { utcText($0.savedAt) } ?? "-",
                metadata.map { String($0.rdbSize) } ?? "-",
                metadata.map { String($0.gzipSize) } ?? row.stored.map { String($0.size) } ?? "-",
                metadata?.node ?? "-",
                row.stored == nil ? "MISSING" : "yes",
                metadata.map { String($0.rdbSHA256.prefix(16)) } ?? (row.metadataProblem == nil ? "no metadata" : "bad metadata"),
            ]
        }
        let table = [header] + lines.map { $0.map(LogLineFormatter.escapedControls) }
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        var text = table.map { cells in
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
        if rows.isEmpty { text.append("(no backups)") }
        return text.joined(separator: "\n")
    }

    /// `YYYY-mm-dd HH:MM:SS` in UTC.
    static func utcText(_ unixSeconds: Int64) -> String {
        UTCTime(unixSeconds: unixSeconds)?.text ?? "invalid time \(unixSeconds)"
    }
}
