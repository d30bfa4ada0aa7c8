import Foundation
import PackagePlugin

/// Writes BuildCommit.swift (`enum BuildCommit { static let short = "1a2b3c4d5e6f" }`) for `lvsh --version`.
///
/// A plugin rather than git in Package.swift: SwiftPM caches the evaluated manifest, so a commit read
/// there goes stale. The command's inputs are git's HEAD and the files the ref it names can live in,
/// so the stamp is rewritten exactly when the commit changes, and nothing else is rebuilt.
/// Outside a git checkout (a source tarball) the commit is "unknown".
@main
struct CommitStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL.path
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildCommit.swift")
        let script = """
            c=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null) || c=unknown
            printf '/// The git commit lvsh was built from (Plugins/CommitStamp).\\nenum BuildCommit {\\n    static let short = "%s"\\n}\\n' "$c" >"$2"
            """
        return [.buildCommand(
            displayName: "Stamping the git commit into lvsh",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", script, "sh", root, output.path],
            inputFiles: gitFiles(root).map { URL(fileURLWithPath: $0) },
            outputFiles: [output]
        )]
    }

    /// HEAD, the loose ref it points at and packed-refs, in the checkout's git folders (a worktree
    /// keeps HEAD apart from the refs); none outside a checkout.
    private func gitFiles(_ root: String) -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", root, "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir", "--symbolic-full-name", "HEAD"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return [] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard p.terminationStatus == 0, lines.count >= 2 else { return [] }
        var files = [lines[0] + "/HEAD", lines[1] + "/packed-refs"]
        if lines.count >= 3, lines[2].hasPrefix("refs/") { files.append(lines[1] + "/" + lines[2]) }
        return files.filter { FileManager.default.fileExists(atPath: $0) }
    }
}
