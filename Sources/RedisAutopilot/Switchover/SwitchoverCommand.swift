import Foundation
import Glibc

/// `redis-manage switchover [--to HOST:PORT] [--yes]`: observes, lets
/// SwitchoverDecision pick the next step, carries it out, and prints a line
/// whenever what it is waiting for changes.
struct SwitchoverCommand {
    let reach: ClusterReach
    let output: (String) -> Void
    /// Asks the operator; nil when there is no terminal to ask on.
    let ask: ((String) -> Bool)?

    init(settings: Settings, output: @escaping (String) -> Void = { print($0) },
                ask: ((String) -> Bool)? = SwitchoverCommand.terminalQuestion()) {
        reach = ClusterReach(settings: settings)
        self.output = output
        self.ask = ask
    }

    /// A y/N question on the terminal, or nil when standard input is not one.
    static func terminalQuestion() -> ((String) -> Bool)? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        return { question in
            FileHandle.standardOutput.write(Data((question + " [y/N] ").utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
            return answer == "y" || answer == "yes"
        }
    }

    func run(target: NodeAddress?, confirmed: Bool) -> ExitCode {
        var run = SwitchoverRun(reach: reach, target: target, output: output)
        return run.execute(confirm: { question in
            if confirmed { return nil }
            guard let ask else { return "not confirmed: standard input is not a terminal; pass --yes to switch over without asking" }
            return ask(question) ? nil : "not confirmed; nothing was changed"
        })
    }
}

/// One switchover's state while it runs: what it changed, so that every
/// way out puts it back.
struct SwitchoverRun {
    let reach: ClusterReach
    let target: NodeAddress?
    let output: (String) -> Void
    let observer: SwitchoverObserver
    let hold: WriteHold
    let priorities: ReplicaPriorities
    let started = Deadline.now

    var phase = SwitchoverPhase.checking
    var oldMaster: NodeAddress?
    var savedPriorities: [NodeAddress: String] = [:]
    var replicasSeen: Set<NodeAddress> = []
    var heldSince: Deadline?
    var heldSeconds: Double = 0

    init(reach: ClusterReach, target: NodeAddress?, output: @escaping (String) -> Void) {
        self.reach = reach
        self.target = target
        self.output = output
        observer = SwitchoverObserver(reach: reach)
        hold = WriteHold(reach: reach)
        priorities = ReplicaPriorities(reach: reach)
    }

    func progress(_ line: String) {
        output(String(format: "[%5.1fs] ", started.elapsedSeconds) + line)
    }

    /// `confirm` returns why not to go on, or nil to go on.
    mutating func execute(confirm: (String) -> String?) -> ExitCode {
        let budget = reach.settings.sentinel.failoverWaitTimeout.inSeconds
        var deadline = Deadline.after(seconds: budget)
        let catchUpLimit = SwitchoverDecision.catchUpLimit(downAfterSeconds: reach.settings.sentinel.downAfter.inSeconds)
        var lastReason = ""
        do {
            while true {
                let (seen, sentinel) = observer.observe(master: oldMaster, replicasSeen: replicasSeen)
                replicasSeen.formUnion(seen.replicas.map(\.address))
                if case let .paused(offset, _) = phase, let heldSince {
                    phase = .paused(offset: offset, seconds: heldSince.elapsedSeconds)
                }
                let plan = SwitchoverDecision.next(seen, target: target, phase: phase, catchUpLimit: catchUpLimit)
                if plan.step == .refuse {
                    output("switchover refused: \(plan.reason)")
                    return .refused
                }
                if plan.reason != lastReason {
                    progress(plan.reason)
                    lastReason = plan.reason
                }
                if phase == .checking && oldMaster == nil {
                    oldMaster = seen.master
                    let whom = target.map { "to \($0)" } ?? "to the replica Sentinel picks"
                    if let refusal = confirm("Switch the master \(seen.master?.description ?? "") over \(whom)?") {
                        output("switchover refused: \(refusal)")
                        return .refused
                    }
                    deadline = Deadline.after(seconds: budget)
                }
                if deadline.hasPassed {
                    putBack()
                    output("switchover failed: not done within FAILOVER_WAIT_TIMEOUT (\(Int(budget))s); last: \(plan.reason)")
                    return .failure
                }
                guard let master = oldMaster else { throw SwitchoverError.noSentinel }
                switch plan.step {
                case .refuse:
                    return .refused
                case let .lowerPriorities(replicas):
                    try priorities.lower(replicas, saved: &savedPriorities)
                    phase = .prioritiesLowered
                case .waitForSentinel:
                    pause(0.25)
                case .pauseWrites:
                    let offset = try hold.hold(master, milliseconds: Int(deadline.remainingSeconds * 1000) + 1000)
                    heldSince = Deadline.now
                    phase = .paused(offset: offset, seconds: 0)
                case .waitForCatchUp, .waitForNewMaster:
                    pause(0.05)
                case .requestFailover:
                    guard let sentinel else { throw SwitchoverError.noSentinel }
                    let client = try reach.sentinel(sentinel)
                    defer { client.close() }
                    do {
                        try client.failover(name: ClusterNames.masterName)
                    } catch let RedisError.server(_, _, message) {
                        throw SwitchoverError.failoverRefused(sentinel: sentinel, reason: message)
                    }
                    phase = .failoverRequested(from: master, writesHeld: true)
                case let .demoteOldMaster(newMaster):
                    try hold.demote(master, to: newMaster)
                    try releaseWrites(master)
                    phase = .failoverRequested(from: master, writesHeld: false)
                case .releaseWrites:
                    try releaseWrites(master)
                    phase = .failoverRequested(from: master, writesHeld: false)
                case let .done(newMaster):
                    let unrestored = priorities.restore(savedPriorities)
                    savedPriorities = [:]
                    for failure in unrestored { progress("could not restore replica-priority on \(failure)") }
                    output(String(format: "switchover done: %@ -> %@ in %.1fs, writes held for %.2fs",
                                  master.description, newMaster.description, started.elapsedSeconds, heldSeconds))
                    return unrestored.isEmpty ? .success : .failure
                case .abort:
                    putBack()
                    output("switchover failed: \(plan.reason)")
                    return .failure
                }
            }
        } catch {
            putBack()
            output("switchover failed: \(error)")
            return .failure
        }
    }

    private mutating func releaseWrites(_ master: NodeAddress) throws {
        try hold.release(master)
        heldSeconds = heldSince?.elapsedSeconds ?? 0
        heldSince = nil
    }

    /// Every way out after a change: the priorities go back, and held writes
    /// go back to the old master only while it is still the master the
    /// sentinels name; otherwise it is made a replica first, so they fail.
    private mutating func putBack() {
        for failure in priorities.restore(savedPriorities) {
            progress("could not restore replica-priority on \(failure)")
        }
        savedPriorities = [:]
        guard heldSince != nil, let master = oldMaster else { return }
        let named = observer.observe(master: master, replicasSeen: replicasSeen).snapshot.namedMasters.mostNamed()?.address
        do {
            if let named, named != master {
                try hold.demote(master, to: named)
                progress("the sentinels name \(named); made \(master) its replica before releasing its held writes")
            }
            try releaseWrites(master)
            progress("released the writes held on \(master)")
        } catch {
            progress("could not release the writes held on \(master) (\(error)); the pause ends by itself within FAILOVER_WAIT_TIMEOUT")
        }
    }

    private func pause(_ seconds: Double) {
        usleep(useconds_t(seconds * 1_000_000))
    }
}
