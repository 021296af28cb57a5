/// healthSentinel: Sentinel must answer; and a cluster too small to fail
/// over is said plainly, since nothing else would show it before an outage.
public struct SentinelHealthHook {
    let node: NodeContext

    public init(node: NodeContext) {
        self.node = node
    }

    public func run() throws {
        let sentinel = try node.sentinel()
        defer { sentinel.close() }
        try sentinel.ping()
        guard let master = try? sentinel.master(name: ClusterNames.masterName) else {
            node.log("healthSentinel", "sentinel answers PING but does not monitor \(ClusterNames.masterName) yet", level: .warn)
            return
        }
        let sentinels = (master.numOtherSentinels ?? 0) + 1
        let quorum = master.quorum ?? ClusterNames.defaultQuorum
        if let note = FailoverCapacity.note(sentinels: sentinels, quorum: quorum) {
            node.log("healthSentinel", "sentinel answers; \(note)", level: .warn)
        } else {
            node.log("healthSentinel", "sentinel answers; \(sentinels) sentinels, quorum \(quorum), \(master.numReplicas ?? 0) replicas known", level: .debug)
        }
    }
}
