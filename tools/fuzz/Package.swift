// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for lvsh, one executable each: `tools/fuzz/run HARNESS [SECONDS]` builds and runs one.
// Each harness only hands libFuzzer's bytes to an entry point of the main package (ShellFuzzEntry,
// IPVSFuzzEntry, FirewallFuzzEntry), which `swift test` also feeds every file of corpus/HARNESS.
// `-parse-as-library`: the harness has no top-level code, so libFuzzer's `main` is the program's.
// tools/fuzz/run also builds with `--sanitize=fuzzer`, so that the main package's modules get the coverage
// instrumentation too: flags here reach only this package's own targets.
let fuzzer: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer", "-parse-as-library"])]
let link: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer"])]

let package = Package(
    name: "lvsh-fuzz",
    dependencies: [.package(name: "lvsh", path: "../..")],
    targets: [
        // lvsh command batches: the tokenizer and the command table (parse with and without a memo, `?`, TAB).
        .executableTarget(name: "tokenize", dependencies: [.product(name: "LVSHFuzzing", package: "lvsh")],
                          swiftSettings: fuzzer, linkerSettings: link),
        // ipvsadm command lines (as argv, or lines as -R reads them) and -R input.
        .executableTarget(name: "ipvsadm", dependencies: [.product(name: "LVSHFuzzing", package: "lvsh")],
                          swiftSettings: fuzzer, linkerSettings: link),
        // Netlink receive buffers through the IPVS reply decoders; the same bytes as nftables set-element fields.
        .executableTarget(name: "netlink", dependencies: [.product(name: "LVSHFuzzing", package: "lvsh")],
                          swiftSettings: fuzzer, linkerSettings: link),
    ]
)
