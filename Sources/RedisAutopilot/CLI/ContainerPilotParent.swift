import Glibc

/// The ContainerPilot worker that runs this hook, when it is one. A failed
/// preStart or onStart stops it: ContainerPilot 3.8 exits only once every job
/// is done, and the Consul agent and the backup job never are, so without
/// this the container would stay up with no Redis, forever.
enum ContainerPilotParent {
    static let processName = "containerpilot"

    /// The parent's pid when its process name is ContainerPilot's; nil when
    /// the hook was started some other way (an operator's shell, a test).
    static func pid() -> pid_t? {
        let parent = getppid()
        guard parent > 1, let comm = ConfigFile.read("/proc/\(parent)/comm"),
              comm.trimmingCharacters(in: .whitespacesAndNewlines) == processName else { return nil }
        return parent
    }

    /// SIGTERM, as `docker stop` sends: ContainerPilot runs its stop sequence
    /// (preStop included) and exits.
    static func requestShutdown(of pid: pid_t) -> Bool {
        kill(pid, SIGTERM) == 0
    }
}
