/// Runs an action at most once per period when beaten: keeps a Consul session
/// alive from inside a long copy or wait without a second thread.
final class Heartbeat {
    private let period: Double
    private let action: () throws -> Void
    private var last = Deadline.now

    init(every period: Double, action: @escaping () throws -> Void) {
        self.period = period
        self.action = action
    }

    func beat() throws {
        guard last.elapsedSeconds >= period else { return }
        last = Deadline.now
        try action()
    }
}

/// Yields a source's bytes, failing once `deadline` passes and beating
/// `heartbeat` on the way: an upload that is bounded and keeps its lock.
final class GuardedSource: ByteSource {
    private let source: ByteSource
    private let deadline: Deadline
    private let heartbeat: Heartbeat?
    private let onTimeout: () -> Error

    init(_ source: ByteSource, deadline: Deadline, heartbeat: Heartbeat?, onTimeout: @escaping () -> Error) {
        self.source = source
        self.deadline = deadline
        self.heartbeat = heartbeat
        self.onTimeout = onTimeout
    }

    func read(maxBytes: Int) throws -> [UInt8] {
        if deadline.hasPassed { throw onTimeout() }
        try heartbeat?.beat()
        return try source.read(maxBytes: maxBytes)
    }
}

/// The sink counterpart of `GuardedSource`, for downloads.
final class GuardedSink: ByteSink {
    private let sink: ByteSink
    private let deadline: Deadline
    private let heartbeat: Heartbeat?
    private let onTimeout: () -> Error

    init(_ sink: ByteSink, deadline: Deadline, heartbeat: Heartbeat?, onTimeout: @escaping () -> Error) {
        self.sink = sink
        self.deadline = deadline
        self.heartbeat = heartbeat
        self.onTimeout = onTimeout
    }

    func write(_ bytes: [UInt8]) throws {
        if deadline.hasPassed { throw onTimeout() }
        try heartbeat?.beat()
        try sink.write(bytes)
    }
}
