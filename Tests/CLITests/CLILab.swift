import Foundation
import TestSupport
import Testing

/// The lvsh executable as users run it, on the machine's own kernel, each test in a fresh named network
/// namespace (`ip netns add`) entered with `ip netns exec`; `nft` is the independent witness.
///
/// Why spawn the binary: these tests check the interface DESIGN.md freezes (the command-line faces,
/// exit codes, messages, the JSON of `show groups --json`) end to end, through the same code path a user
/// takes. Why named namespaces: Swift Testing runs tests in parallel on a shared thread pool, and a
/// namespace named by a file is entered by the child process alone, so the test process itself (and
/// the machine's own network) is never touched.
enum CLILab {
    /// The lvsh binary: $LVSH_BIN, else the `lvsh` built next to this test bundle.
    static let lvsh: String = {
        if let path = ProcessInfo.processInfo.environment["LVSH_BIN"], !path.isEmpty { return path }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("lvsh").path
    }()

    static func tool(_ name: String) -> String? {
        ["/usr/sbin/\(name)", "/usr/bin/\(name)", "/sbin/\(name)", "/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Root, `ip`, `nft` and the lvsh binary; the host kernel has nf_tables.
    static let available = getuid() == 0 && tool("ip") != nil && tool("nft") != nil
        && FileManager.default.isExecutableFile(atPath: lvsh)

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What a program did.
    struct Result: CustomStringConvertible {
        var status: Int32
        var out: String
        var err: String
        var description: String { "exit \(status)\n--- stdout:\n\(out)--- stderr:\n\(err)" }
    }

    /// The state folder (the configuration archive) and the log socket of the lvsh runs of this test
    /// process: in its own temporary folder, never the machine's /var/lib/lvsh or /dev/log (the socket
    /// does not exist, so nothing is logged). A test that reads them passes its own.
    static let spawned = SpawnEnvironment.make(kind: "cli")

    /// This process's environment for an lvsh run: archive, log socket and runtime folders the test
    /// process's own unless set, then `extra`.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        spawned.merging(extra) { $1 }
    }

    /// Runs `argv` to its end with `input` on standard input (LVSH_STATE_DIR and LVSH_LOG_SOCKET
    /// set to the test process's own unless `environment` or the caller's environment names them).
    static func run(_ argv: [String], input: String = "", environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.environment = Self.environment(environment)
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        try p.run()
        // Drain both outputs while the program runs (a full pipe would stop it).
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inPipe.fileHandleForWriting.close()
        let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                      err: String(decoding: errBox.data, as: UTF8.self))
    }
}

/// A fresh network namespace for one test, deleted when the test ends.
final class Netns: @unchecked Sendable {
    let name: String

    init() throws {
        name = "lvsh-cli-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let r = try CLILab.run(["ip", "netns", "add", name])
        guard r.status == 0 else { throw CLILab.Failure(description: "ip netns add \(name): \(r)") }
    }

    /// Files written by `file`, removed with the namespace.
    private var files: [String] = []

    deinit {
        _ = try? CLILab.run(["ip", "netns", "del", name])
        for f in files { unlink(f) }
    }

    /// Runs a program inside the namespace.
    func run(_ argv: [String], input: String = "", environment: [String: String] = [:]) throws -> CLILab.Result {
        try CLILab.run(["ip", "netns", "exec", name] + argv, input: input, environment: environment)
    }

    /// `lvsh ARGS` inside the namespace.
    func lvsh(_ args: String..., input: String = "") throws -> CLILab.Result {
        try run([CLILab.lvsh] + args, input: input)
    }

    /// A shell command inside the namespace; fails the test's setup unless it exits 0.
    @discardableResult
    func sh(_ command: String) throws -> String {
        let r = try run(["sh", "-c", command])
        guard r.status == 0 else { throw CLILab.Failure(description: "\(command): \(r)") }
        return r.out
    }

    /// `nft -j list ruleset`, one object a line (keys sorted, metainfo left out).
    func ruleset() throws -> [String] {
        try NFTJSON.lines(sh("nft -j list ruleset"))
    }

    /// The ruleset without table inet lvsh and its objects: what lvsh must never change.
    func rulesetOfOthers() throws -> [String] {
        try NFTJSON.objects(sh("nft -j list ruleset")).filter { !NFTJSON.isLvsh($0) }.map(NFTJSON.line)
    }

    /// `nft -j list table inet lvsh`, one object a line with handles left out; [] without the table.
    func lvshTable() throws -> [String] {
        guard try sh("nft list tables").contains("table inet lvsh") else { return [] }
        return try NFTJSON.objects(sh("nft -j list table inet lvsh")).map { NFTJSON.line(NFTJSON.withoutHandle($0)) }
    }

    /// Writes a file for `lvsh -f` (in the test process's /tmp: the namespace shares the file system).
    func file(_ name: String, _ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(self.name)-\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        files.append(path)
        return path
    }
}

/// `nft -j` output as comparable text.
enum NFTJSON {
    static func objects(_ json: String) throws -> [[String: Any]] {
        guard let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let list = root["nftables"] as? [[String: Any]] else {
            throw CLILab.Failure(description: "not nft -j output: \(json.prefix(200))")
        }
        return list.filter { $0["metainfo"] == nil }
    }

    static func lines(_ json: String) throws -> [String] { try objects(json).map(line) }

    /// One object as JSON with sorted keys.
    static func line(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// The object without its kernel-assigned handle.
    static func withoutHandle(_ object: [String: Any]) -> [String: Any] {
        object.mapValues { value in
            guard var body = value as? [String: Any] else { return value }
            body["handle"] = nil
            return body
        }
    }

    /// Whether the object is table inet lvsh or lives in it.
    static func isLvsh(_ object: [String: Any]) -> Bool {
        object.values.contains { value in
            guard let body = value as? [String: Any], body["family"] as? String == "inet" else { return false }
            return body["table"] as? String == "lvsh" || (object["table"] != nil && body["name"] as? String == "lvsh")
        }
    }
}
