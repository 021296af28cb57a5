import Foundation

/// `status` as text: the cluster lines, a table of nodes and one of
/// sentinels, then every problem. Colour (red problems, green health) only
/// when asked for: the command asks only on a terminal without NO_COLOR.
enum StatusTable {
    static func render(_ status: ClusterStatus, colour: Bool) -> String {
        let paint = Painter(enabled: colour)
        let summary = status.cluster
        var lines: [String] = []
        lines.append("master:     " + (summary.master ?? paint.red("none")))
        var sentinels = "\(summary.sentinelsReachable) of \(summary.sentinelsKnown) answer"
        if let quorum = summary.quorum { sentinels += ", quorum \(quorum)" }
        sentinels += summary.failoverPossible ? ", failover possible" : ", " + paint.red("failover not possible")
        if summary.failoverInProgress { sentinels += ", " + paint.yellow("failover in progress") }
        lines.append("sentinels:  " + sentinels)
        lines.append("consul:     " + (summary.consul == "reachable" ? summary.consul : paint.red(summary.consul)))
        lines.append("bootstrap:  " + (summary.bootstrapLock.map { "lock held by \($0)" } ?? "lock free"))
        if let backup = summary.lastBackup {
            var text = backup.name
            var details: [String] = []
            if let age = backup.ageSeconds { details.append(AgeText.format(seconds: age) + " ago") }
            if let node = backup.node { details.append("from \(node)") }
            if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
            lines.append("backup:     " + (backup.stale ? paint.red(text + ", stale") : text))
        } else {
            lines.append("backup:     none recorded")
        }
        lines.append("")

        let nodeRows = status.nodes.map { row -> [Cell] in
            [Cell(row.address), Cell(row.role, bad: row.role == "no answer"), Cell(row.sentinel, bad: row.sentinel.contains("_down")),
             Cell(row.consul.isEmpty ? "-" : row.consul.joined(separator: ", "), bad: row.consul.contains { !$0.hasSuffix("passing") }),
             Cell(row.link ?? "-", bad: row.link == "down"),
             Cell(lag(row)), problemCell(row.problems)]
        }
        lines += table(header: ["NODE", "REDIS", "SENTINEL", "CONSUL", "LINK", "LAG", "PROBLEMS"], rows: nodeRows, paint: paint)
        lines.append("")
        let sentinelRows = status.sentinels.map { row -> [Cell] in
            [Cell(row.address), Cell(row.reachable ? "yes" : "no", bad: !row.reachable), Cell(row.names ?? "-"),
             Cell(row.failoverState ?? "-"), Cell(row.consul.isEmpty ? "-" : row.consul.joined(separator: ", "),
                                                  bad: row.consul.contains { !$0.hasSuffix("passing") }),
             problemCell(row.problems)]
        }
        lines += table(header: ["SENTINEL", "ANSWERS", "NAMES", "FAILOVER", "CONSUL", "PROBLEMS"], rows: sentinelRows, paint: paint)
        lines.append("")
        for problem in summary.problems {
            lines.append(paint.red("problem: ") + problem)
        }
        let count = summary.problems.count + status.nodes.map(\.problems.count).reduce(0, +)
            + status.sentinels.map(\.problems.count).reduce(0, +)
        lines.append(status.healthy ? "status: " + paint.green("healthy")
                     : "status: " + paint.red("degraded") + " (\(count) problem\(count == 1 ? "" : "s"))")
        return lines.joined(separator: "\n")
    }

    private static func lag(_ row: NodeStatusRow) -> String {
        var parts: [String] = []
        if let bytes = row.lagBytes { parts.append("\(bytes)B") }
        if let seconds = row.lagSeconds { parts.append("\(seconds)s") }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    private static func problemCell(_ problems: [String]) -> Cell {
        problems.isEmpty ? Cell("-") : Cell(problems.joined(separator: "; "), bad: true)
    }

    private struct Cell {
        var text: String
        var bad: Bool

        init(_ text: String, bad: Bool = false) {
            self.text = text
            self.bad = bad
        }
    }

    /// Pads before painting, so escape codes never count as width; the
    /// last column is left unpadded.
    private static func table(header: [String], rows: [[Cell]], paint: Painter) -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.text.count) }
        }
        func line(_ cells: [Cell]) -> String {
            cells.enumerated().map { index, cell in
                let padded = index == cells.count - 1 ? cell.text : cell.text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                return cell.bad ? paint.red(padded) : padded
            }.joined(separator: "  ")
        }
        return [line(header.map { Cell($0) })] + rows.map(line)
    }
}

/// ANSI colours, or plain text when disabled.
struct Painter {
    let enabled: Bool

    func red(_ text: String) -> String { paint(text, "31") }
    func green(_ text: String) -> String { paint(text, "32") }
    func yellow(_ text: String) -> String { paint(text, "33") }

    private func paint(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// `status --json`: the same content as the table, one document.
enum StatusJSON {
    static func render(_ status: ClusterStatus) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Plain strings, numbers and booleans always encode.
        return (try? encoder.encode(status)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
