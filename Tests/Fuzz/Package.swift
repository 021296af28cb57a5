// swift-tools-version:6.0
import PackageDescription

// The libFuzzer driver: built only by `make fuzz` and CI, with
// `-sanitize=fuzzer`, into its own scratch path (.build-fuzz). The targets
// are the unit tests' FuzzTargets.swift (a link), so that the regression
// inputs the unit tests replay run exactly what was fuzzed.
let package = Package(
    name: "redis-manage-fuzz",
    dependencies: [.package(name: "redis-manage", path: "../..")],
    targets: [
        .executableTarget(
            name: "redis-manage-fuzz",
            dependencies: [.product(name: "RedisAutopilot", package: "redis-manage")]),
    ]
)
