import Foundation
import Testing

/// Whether kernel tests can run: root, and the tools they use as witnesses.
enum NFTLab {
    static let available = getuid() == 0
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
        && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/bin/ip"))
}

/// A fresh named network namespace (`ip netns add`) for one kernel test, deleted when the test ends.
///
/// Why named namespaces: network namespaces belong to threads, and Swift Testing runs tests on a shared
/// thread pool, so unshare(CLONE_NEWNET) in a test would leak into others. A named namespace is a file
/// (/run/netns/NAME): the backend opens its socket inside it (`NFTablesBackend(networkNamespace:)`
/// switches one thread for the duration of socket()), and `ip netns exec NAME nft ...` runs the
/// independent witness there. Nothing ever touches the host's own namespace.
final class NFTTestNamespace: @unchecked Sendable {
    let name: String
    var path: String { "/run/netns/\(name)" }

    init() throws {
        name = "lvsh-nft-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        try NFTTestNamespace.run(["ip", "netns", "add", name])
    }

    deinit { _ = try? NFTTestNamespace.run(["ip", "netns", "del", name]) }

    /// Runs a shell command inside the namespace and returns its standard output.
    @discardableResult
    func sh(_ command: String) throws -> String {
        try NFTTestNamespace.run(["ip", "netns", "exec", name, "sh", "-c", command])
    }

    /// `nft ARGS` inside the namespace.
    @discardableResult
    func nft(_ args: String) throws -> String { try sh("nft \(args)") }

    /// `nft -j ARGS` parsed.
    func nftJSON(_ args: String) throws -> [[String: Any]] {
        let out = try nft("-j \(args)")
        let root = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        return root?["nftables"] as? [[String: Any]] ?? []
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func run(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(argv.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
