// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "redis-manage",
    products: [
        .executable(name: "redis-manage", targets: ["redis-manage"]),
        .library(name: "RedisAutopilot", targets: ["RedisAutopilot"]),
    ],
    targets: [
        // gzip goes through the system's zlib; no Swift package is used.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "RedisAutopilot", dependencies: ["CZlib"]),
        .executableTarget(name: "redis-manage", dependencies: ["RedisAutopilot"]),
        .testTarget(name: "RedisAutopilotTests", dependencies: ["RedisAutopilot"]),
    ]
)
