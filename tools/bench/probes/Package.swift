// swift-tools-version:6.0
import PackageDescription

// The probes and their scheduler alone, in release mode: CPU, memory and lateness of N TCP checks on
// one event loop. `tools/bench/probes/run` builds it and runs it in a fresh network namespace.
let package = Package(
    name: "lvsh-bench-probes",
    dependencies: [
        .package(name: "lvsh", path: "../../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(name: "probes", dependencies: [
            .product(name: "LVSHHealth", package: "lvsh"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
