import Foundation

/// One line of a ListDirectory answer: `{"name", "type", "mtime", "size", ...}`.
struct MantaDirectoryEntry: Equatable {
    enum Kind: Equatable {
        case object
        case directory
        /// A type this client does not know (links, in old Mantas): listed, never used.
        case other(String)
    }

    var name: String
    var kind: Kind
    /// Objects only.
    var size: Int?
    var modified: Date?
}

/// ListDirectory's body: JSON objects, one per line.
enum MantaDirectoryListing {
    static func parse(_ body: [UInt8], path: MantaPath) throws -> [MantaDirectoryEntry] {
        var entries: [MantaDirectoryEntry] = []
        for (index, line) in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if trimmed.isEmpty { continue }
            do {
                entries.append(try entry(Data(trimmed)))
            } catch let reason as Reason {
                throw MantaError.malformedListing(path: path.description, reason: "line \(index + 1): \(reason.text)")
            }
        }
        return entries
    }

    private struct Reason: Error {
        var text: String
    }

    private static func entry(_ line: Data) throws -> MantaDirectoryEntry {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            throw Reason(text: "not a JSON object")
        }
        guard let name = object["name"] as? String, !name.isEmpty else { throw Reason(text: "no name") }
        guard let type = object["type"] as? String else { throw Reason(text: "no type for \(String(reflecting: name))") }
        let kind: MantaDirectoryEntry.Kind = switch type {
        case "object": .object
        case "directory": .directory
        default: .other(type)
        }
        var size: Int?
        if kind == .object {
            guard let value = object["size"] as? Int, value >= 0 else {
                throw Reason(text: "no valid size for object \(String(reflecting: name))")
            }
            size = value
        }
        var modified: Date?
        if let mtime = object["mtime"] {
            guard let text = mtime as? String, let date = parseTimestamp(text) else {
                throw Reason(text: "invalid mtime for \(String(reflecting: name))")
            }
            modified = date
        }
        return MantaDirectoryEntry(name: name, kind: kind, size: size, modified: modified)
    }

    /// `2013-05-22T17:39:43.714Z`, as Manta writes it; without the fraction too.
    static func parseTimestamp(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }
}
