// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lvsh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lvsh", targets: ["lvsh"]),
        // For the libFuzzer harnesses in tools/fuzz, a package of their own (see Fuzzing.swift in each).
        .library(name: "LVSHFuzzing", targets: ["Shell", "IPVS", "Firewall"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        // Pure value types and logic: no I/O.
        .target(name: "LVSModel"),
        // Generic-netlink IPVS client.
        .target(name: "IPVS", dependencies: ["CNetlink", "LVSModel"]),
        // Firewall-mark backends: nftables (libnftnl) and iptables.
        .target(name: "Firewall", dependencies: ["CNetlink", "LVSModel"], exclude: ["README.md"]),
        // The command languages (ipvsadm's and lvsh's) and their renderers.
        .target(name: "Shell", dependencies: ["LVSModel", "IPVS", "Firewall"]),
        // The interactive console: libedit editing, history, `?` and TAB from the command table.
        .target(name: "Console", dependencies: ["CEditLine", "Shell", "IPVS", "LVSModel"]),
        .executableTarget(
            name: "lvsh",
            dependencies: [
                "Console", "Shell", "IPVS", "Firewall", "LVSModel", "CNetlink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LVSModelTests", dependencies: ["LVSModel"]),
        .testTarget(name: "IPVSTests", dependencies: ["IPVS", "LVSModel"], exclude: ["Captures"]),
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "LVSModel"]),
        // Pure parts of the console, and the console itself driven through tmux in a fresh namespace.
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Shell", "LVSModel"]),
        .testTarget(name: "ShellTests", dependencies: ["Shell", "IPVS", "LVSModel"]),
        // The lvsh binary end to end, on the machine's kernel in fresh network namespaces (spawns it).
        .testTarget(name: "CLITests"),
        // tools/: the ansible module against a namespace of this host.
        .testTarget(name: "ToolsTests"),
        // Real-kernel scenarios, run in the user-mode-linux lab (tools/lab).
        .testTarget(name: "LabTests"),
    ]
)
