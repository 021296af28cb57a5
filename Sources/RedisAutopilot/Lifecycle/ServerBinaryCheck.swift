/// The program that runs Redis or Sentinel on this node, located
/// (REDIS_SERVER_BIN, REDIS_SENTINEL_BIN) and asked whether it has what
/// redis-manage needs (ServerProbe, cached per binary in the run directory);
/// refused, naming its version and what it lacks, when it does not.
struct ServerBinaryCheck {
    let settings: Settings
    let log: HookLog

    /// The supported program's path.
    func supported(_ program: ServerProgram) throws -> String {
        let path = try ServerBinaryLocator(settings: settings.binaries).locate(program)
        let cache = ServerProbeCache(runDir: settings.paths.runDir, program: program)
        let cached = cache.lookup(path: path)
        let report = try cached ?? ServerProbe(program: program, path: path, runDir: settings.paths.runDir).run()
        if cached == nil { cache.store(report, path: path) }
        if let refusal = ServerSupport.refusal(of: report) {
            throw ServerBinaryError.unsupported(path: path, reason: refusal)
        }
        // Said once per binary; every later start only repeats what is in the cache.
        log("\(program.variable): \(path) is \(report.name), with every feature redis-manage uses, "
            + (cached == nil ? "asked by a throwaway instance" : "as asked before (\(cache.file))"), level: cached == nil ? .info : .debug)
        return path
    }
}
