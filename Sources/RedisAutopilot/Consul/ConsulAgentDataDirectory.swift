import Foundation

/// A check the local agent persisted because it was registered through the
/// HTTP API (`<data-dir>/checks/<hash of the check ID>`): which service it
/// belongs to.
struct PersistedCheck: Sendable, Equatable {
    var checkID: String
    var serviceID: String
    var serviceName: String

    init(checkID: String, serviceID: String, serviceName: String) {
        self.checkID = checkID
        self.serviceID = serviceID
        self.serviceName = serviceName
    }
}

/// The last status of a TTL check as the agent persisted it on every pass,
/// warn or fail (`<data-dir>/checks/state/<hash of the check ID>`). A starting
/// agent gives the check this status instead of `critical` while `expires`
/// (Unix seconds: the update plus the TTL) has not come.
struct PersistedCheckStatus: Sendable, Equatable {
    /// The file's path.
    var path: String
    var checkID: String
    var status: String
    var expires: Int64

    init(path: String, checkID: String, status: String, expires: Int64) {
        self.path = path
        self.checkID = checkID
        self.status = status
        self.expires = expires
    }
}

/// What a stopped agent's data directory holds of its checks.
struct PersistedAgentChecks: Sendable, Equatable {
    var checks: [PersistedCheck]
    var statuses: [PersistedCheckStatus]
    /// Files that could not be read as what their directory holds; Consul
    /// skips or deletes them itself.
    var unreadable: [String]

    init(checks: [PersistedCheck] = [], statuses: [PersistedCheckStatus] = [], unreadable: [String] = []) {
        self.checks = checks
        self.statuses = statuses
        self.unreadable = unreadable
    }
}

enum ConsulAgentDataError: Error, Equatable, CustomStringConvertible {
    case malformed(path: String, reason: String)
    case removeFailed(path: String, reason: String)

    var description: String {
        switch self {
        case let .malformed(path, reason):
            return "\(path) is not a Consul agent's persisted check: \(reason)"
        case let .removeFailed(path, reason):
            return "cannot remove \(path): \(reason)"
        }
    }
}

/// What preStart reads of the agent's data directory while the agent is not
/// running. The layout is Consul's (agent/agent.go: `checks`, `checks/state`;
/// the file names are a hash of the ID, SHA-256 from Consul 1.11, MD5 before),
/// so files are matched by the check ID inside them, never by name.
struct ConsulAgentDataDirectory: Sendable {
    let path: String

    init(path: String) {
        self.path = path
    }

    var checksPath: String { path + "/checks" }
    var checkStatusPath: String { path + "/checks/state" }

    func read() -> PersistedAgentChecks {
        var found = PersistedAgentChecks()
        for file in Self.files(in: checksPath) {
            do {
                found.checks.append(try Self.parseCheck(try Self.contents(of: file), path: file))
            } catch {
                found.unreadable.append(file)
            }
        }
        for file in Self.files(in: checkStatusPath) {
            do {
                found.statuses.append(try Self.parseCheckStatus(try Self.contents(of: file), path: file))
            } catch {
                found.unreadable.append(file)
            }
        }
        return found
    }

    func remove(_ status: PersistedCheckStatus) throws(ConsulAgentDataError) {
        guard unlink(status.path) == 0 || errno == ENOENT else {
            throw .removeFailed(path: status.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Regular files of a directory, without the agent's half-written
    /// `*.tmp`; none when the directory does not exist (an agent that never ran).
    private static func files(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().filter { !$0.hasSuffix("tmp") }.map { directory + "/" + $0 }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    private static func contents(of path: String) throws(ConsulAgentDataError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .malformed(path: path, reason: "unreadable")
        }
        return data
    }

    private struct CheckFile: Decodable {
        struct Check: Decodable {
            var checkID: String
            var serviceID: String?
            var serviceName: String?

            enum CodingKeys: String, CodingKey {
                case checkID = "CheckID", serviceID = "ServiceID", serviceName = "ServiceName"
            }
        }

        var check: Check

        enum CodingKeys: String, CodingKey {
            case check = "Check"
        }
    }

    private struct StatusFile: Decodable {
        var checkID: String
        var status: String
        var expires: Int64

        enum CodingKeys: String, CodingKey {
            case checkID = "CheckID", status = "Status", expires = "Expires"
        }
    }

    static func parseCheck(_ data: Data, path: String) throws(ConsulAgentDataError) -> PersistedCheck {
        do {
            let check = try JSONDecoder().decode(CheckFile.self, from: data).check
            return PersistedCheck(checkID: check.checkID, serviceID: check.serviceID ?? "", serviceName: check.serviceName ?? "")
        } catch let error as DecodingError {
            throw .malformed(path: path, reason: ConsulClient.describe(error))
        } catch {
            throw .malformed(path: path, reason: "\(error)")
        }
    }

    static func parseCheckStatus(_ data: Data, path: String) throws(ConsulAgentDataError) -> PersistedCheckStatus {
        do {
            let file = try JSONDecoder().decode(StatusFile.self, from: data)
            return PersistedCheckStatus(path: path, checkID: file.checkID, status: file.status, expires: file.expires)
        } catch let error as DecodingError {
            throw .malformed(path: path, reason: ConsulClient.describe(error))
        } catch {
            throw .malformed(path: path, reason: "\(error)")
        }
    }
}
