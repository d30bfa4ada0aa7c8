// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lvsh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lvsh", targets: ["lvsh"]),
        // For tools/bench/probes, a package of its own: the probes and their scheduler, without the daemon.
        .library(name: "LVSHHealth", targets: ["Health"]),
        // For the libFuzzer harnesses in tools/fuzz, a package of their own (see Fuzzing.swift in each).
        .library(name: "LVSHFuzzing", targets: ["Shell", "IPVSAdm", "IPVS", "Firewall"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // libmnl, libnftnl, libnl-genl-3 and the kernel's uapi headers.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-genl-3.0",
            providers: [.apt(["libnl-genl-3-dev", "libnftnl-dev", "libmnl-dev"])]
        ),
        // libedit's native API (histedit.h), for the interactive console.
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // Pure value types and logic: no I/O. Addresses, services, groups, and IPVS's rules (IPVSStateModel).
        .target(name: "LVSModel"),
        // The edges to the system: atomic files, /proc and /sys, /run/lvsh, standard streams.
        .target(name: "System", dependencies: ["LVSModel"]),
        // A small io_uring: many sockets' requests in one system call (IPVS dumps, health probes).
        .target(name: "IOURing", dependencies: ["CNetlink"]),
        // Generic-netlink IPVS client.
        .target(name: "IPVS", dependencies: ["CNetlink", "IOURing", "LVSModel", "System"]),
        // Firewall-mark backends: nftables (libnftnl) and iptables.
        .target(name: "Firewall", dependencies: ["CNetlink", "LVSModel", "System"], exclude: ["README.md"]),
        // One Transaction for every front: writer lock, kernel read, candidate, executor with undo, plans.
        .target(name: "Engine", dependencies: ["LVSModel", "System", "IPVS", "Firewall"]),
        // Health checks: the pure check state machine and effective weights, and the probes on SwiftNIO.
        .target(
            name: "Health",
            dependencies: [
                "LVSModel", "System", "IOURing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["README.md"]
        ),
        // lvsh import: keepalived's configuration language and its mapping onto lvsh's (pure: files come in through ImportFiles).
        .target(name: "Import", dependencies: ["LVSModel"]),
        // ipvsadm's listing formats (-L, -S, --stats ...), which lvsh's own listings print too.
        .target(name: "Listings", dependencies: ["LVSModel", "IPVS"]),
        // The lvsh language: one command table, commands, batches, apply, renderers.
        .target(name: "Shell", dependencies: ["LVSModel", "System", "IPVS", "Firewall", "Engine", "Listings"]),
        // ipvsadm's language on the engine (`lvsh ipvsadm`, `-R`); the executable registers it with the language.
        .target(name: "IPVSAdm", dependencies: ["LVSModel", "System", "IPVS", "Engine", "Listings"]),
        // The interactive console: libedit editing, history, `?` and TAB from the command table.
        .target(name: "Console", dependencies: ["CEditLine", "Shell", "Engine", "System", "IPVS", "LVSModel"]),
        // lvsh daemon: the one writer of its namespace, keeping the kernel matching its file.
        .target(name: "Daemon", dependencies: [
            "Shell", "Engine", "Firewall", "System", "LVSModel", "Health",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(
            name: "lvsh",
            dependencies: [
                "Daemon", "Console", "Shell", "IPVSAdm", "Import", "Engine", "System", "IPVS", "Firewall", "LVSModel", "CNetlink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Relative relocations packed (DT_RELR, glibc 2.36 and later): the 40,000 that a
            // position-independent Swift executable carries shrink from 955 KB of table to 8 KB:
            // `lvsh ipvsadm -S -n` in an empty namespace of user-mode-linux, where a first touch of
            // a page costs ≈70 µs, took 1,384 page faults instead of 1,585. GNU ld 2.40 knows the
            // option too, but the driver picks gold, which does not; lld ships with the toolchain.
            // The binary stays position-independent (ASLR).
            linkerSettings: [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"], .when(platforms: [.linux]))],
            // `lvsh --version` names the commit it was built from (see the plugin for why not here).
            plugins: ["CommitStamp"]
        ),
        // Writes the git commit into the executable (BuildCommit.short) when HEAD moves.
        .plugin(name: "CommitStamp", capability: .buildTool()),
        // What several test targets share (a seeded generator); not a test target itself.
        .target(name: "TestSupport", dependencies: ["System"], path: "Tests/TestSupport"),
        .testTarget(name: "LVSModelTests", dependencies: ["LVSModel", "TestSupport"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Shell", "Engine", "LVSModel", "Health", "IPVS", "Firewall", "System", "TestSupport",
                                                    .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                                                    .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "IPVSTests", dependencies: ["IPVS", "LVSModel", "System", "TestSupport"], exclude: ["Captures"]),
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "LVSModel", "System"]),
        // The check state machine on a virtual clock, probe de-duplication, the probes' wire formats, the scheduler.
        .testTarget(
            name: "HealthTests",
            dependencies: [
                "Health", "LVSModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Pure parts of the console, and the console itself driven through tmux in a fresh namespace.
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Shell", "Engine", "LVSModel", "TestSupport"]),
        // lvsh import: keepalived's parser and mapping, each output read back by lvsh's own evaluator.
        .testTarget(name: "ImportTests", dependencies: ["Import", "Shell", "IPVSAdm", "Engine", "LVSModel"]),
        .testTarget(name: "ShellTests", dependencies: ["Shell", "IPVSAdm", "Engine", "Listings", "System", "IPVS", "Firewall", "LVSModel", "TestSupport"]),
        // The lvsh binary end to end, on the machine's kernel in fresh network namespaces (spawns it).
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "System"]),
        // tools/: the ansible module against a namespace of this host.
        .testTarget(name: "ToolsTests", dependencies: ["TestSupport"]),
        // Real-kernel scenarios, run in the user-mode-linux lab (tools/lab).
        .testTarget(name: "LabTests"),
    ]
)
