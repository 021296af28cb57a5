import Foundation

// libFuzzer's entry points. Its own main is not the one linked (SwiftPM
// provides the executable's), so this one hands argv to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzer(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

nonisolated(unsafe) let selected: (@Sendable ([UInt8]) -> Void)? = ProcessInfo.processInfo.environment["FUZZ_TARGET"]
    .flatMap(FuzzTargets.target(named:))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    selected?(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}

guard selected != nil else {
    let names = FuzzTargets.all.map(\.name).joined(separator: " ")
    FileHandle.standardError.write(Data("usage: FUZZ_TARGET=<target> redis-manage-fuzz [libFuzzer options] [corpus dirs]\ntargets: \(names)\n".utf8))
    exit(2)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzer(&argc, &argv, fuzzOne))
