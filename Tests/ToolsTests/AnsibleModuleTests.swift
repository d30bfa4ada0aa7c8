import Foundation
import TestSupport
import Testing

/// The ansible module end to end (tools/ansible/test/run.sh): a playbook against a network namespace of
/// this host, first run changed, second not, check mode with diff changes nothing, lvsh's errors reach ansible.
@Suite(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                "needs root (namespaces) and python3"))
struct AnsibleModuleTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(.timeLimit(.minutes(10))) func playbookIsIdempotentAndCheckModeShowsTheDiff() throws {
        let p = Process()
        p.executableURL = Self.repo.appendingPathComponent("tools/ansible/test/run.sh")
        var env = SpawnEnvironment.make(kind: "ansible")
        if env["LVSH_BIN"] == nil { env["LVSH_BIN"] = Self.repo.appendingPathComponent(".build/debug/lvsh").path }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "tools/ansible/test/run.sh failed:\n\(text)")
    }
}
