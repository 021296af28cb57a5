/// What `redis-manage` exits with. ContainerPilot only distinguishes zero from
/// non-zero; the split between 1 and 2 is for the people reading the logs.
public enum ExitCode: Int32, Sendable {
    /// The hook did its work.
    case success = 0
    /// The hook's work failed: Redis, Consul or the backup store refused or
    /// did not answer. Running it again may succeed.
    case failure = 1
    /// The command line or the environment is wrong; nothing was done, and
    /// nothing will change until the configuration does.
    case usage = 2
    /// An operator's command refused to start (what it checked first says
    /// why) or was not confirmed; nothing was changed.
    case refused = 3
}
