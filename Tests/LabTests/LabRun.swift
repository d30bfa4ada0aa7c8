import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel labs (`tools/lab/uml`, `tools/lab/qemu`) share: where the
/// repository is, how their scenarios are found, and how one run of a lab is
/// started and read. Each lab boots once per test process for all its
/// scenarios; runs of different labs use different folders, so they may run
/// at the same time.
enum Lab {
    /// The repository root, three levels above this file (symlinks resolved,
    /// so a package that links this file in still finds the real tree).
    static let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Scenario names (file names without `.sh`) in `tools/lab/scenarios/KIND`.
    static func scenarioNames(in directory: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".sh") }.map { String($0.dropLast(3)) }.sorted()
    }

    /// Namespaces and IPVS need root.
    static let isRoot: Bool = geteuid() == 0

    static func findInPath(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `RUNNER -o OUT SCENARIOS` into a fresh folder `.lab/NAME-STAMP-PID`,
    /// after the `before` programs (e.g. a lab's prepare step), all with their
    /// output in `OUT/run.txt`. `LVSH_BIN` defaults to the debug build.
    static func start(runner: String, scenarios: URL, folder name: String, before: [String] = []) async -> LabRun {
        let stamp = Int(Date().timeIntervalSince1970)
        let out = repo.appendingPathComponent(".lab/\(name)-\(stamp)-\(getpid())")
        let run = LabRun(directory: out)
        do {
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let outputFile = out.appendingPathComponent("run.txt")
            try Data().write(to: outputFile)
            let output = try FileHandle(forWritingTo: outputFile)
            defer { try? output.close() }
            var environment = ProcessInfo.processInfo.environment
            if environment["LVSH_BIN"] == nil {
                environment["LVSH_BIN"] = repo.appendingPathComponent(".build/debug/lvsh").path
            }
            for step in before {
                let status = try await runProcess(step, [], environment: environment, output: output)
                guard status == 0 else {
                    let text = run.text("run.txt") ?? ""
                    return LabRun(directory: out, startFailure: "\(step) failed (exit \(status)):\n\(text)")
                }
            }
            _ = try await runProcess(runner, ["-o", out.path, scenarios.path], environment: environment, output: output)
            return run
        } catch {
            return LabRun(directory: out, startFailure: "\(error)")
        }
    }

    /// Runs a program of the repository (a path relative to it) to its end.
    private static func runProcess(
        _ program: String, _ arguments: [String], environment: [String: String], output: FileHandle
    ) async throws -> Int32 {
        let process = Process()
        process.executableURL = repo.appendingPathComponent(program)
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        // Wait without blocking a thread of the shared concurrency pool.
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            process.terminationHandler = { _ in done.resume() }
            do { try process.run() } catch { done.resume(throwing: error) }
        }
        return process.terminationStatus
    }
}

/// The results folder of one lab run: `NAME.rc`, `NAME.log`, `run.txt`, ...
struct LabRun: Sendable {
    var directory: URL
    var startFailure: String?

    func path(_ file: String) -> String { directory.appendingPathComponent(file).path }
    func text(_ file: String) -> String? { try? String(contentsOfFile: path(file), encoding: .utf8) }

    /// Records an issue unless scenario `name` passed in this run.
    func expectPassed(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if let failure = startFailure {
            Issue.record("lab run did not start: \(failure)", sourceLocation: sourceLocation)
            return
        }
        let log = text("\(name).log") ?? "(no log)"
        switch text("\(name).rc")?.trimmingCharacters(in: .whitespacesAndNewlines) {
        case "0":
            break
        case let rc?:
            Issue.record(
                "lab scenario \(name) failed (rc \(rc)), log \(path("\(name).log")):\n\(log)",
                sourceLocation: sourceLocation)
        case nil:
            // No rc: the guest crashed, hung or never reached it; run.txt says which.
            let summary = text("run.txt") ?? ""
            Issue.record(
                "lab scenario \(name) left no result:\n\(log)\n--- lab run output:\n\(summary)",
                sourceLocation: sourceLocation)
        }
    }
}
