import Console
import Foundation
import Testing

@Suite struct PromptTests {
    @Test func promptShowsHostBackendAndNamespace() {
        #expect(Prompt.text(host: "lb1", backend: "nft", namespace: .initial) == "lvsh@lb1(nft)> ")
        #expect(Prompt.text(host: "lb1", backend: "iptables", namespace: .unknown) == "lvsh@lb1(iptables)> ")
        #expect(Prompt.text(host: "lb1", backend: "nft", namespace: .named("blue")) == "lvsh@lb1(nft netns blue)> ")
        #expect(Prompt.text(host: "lb1", backend: "nft", namespace: .anonymous(4026532177)) == "lvsh@lb1(nft netns net:[4026532177])> ")
        #expect(Prompt.text(host: "lb1", backend: nil, namespace: .initial) == "lvsh@lb1> ")
        #expect(Prompt.text(host: "lb1", backend: nil, namespace: .named("blue")) == "lvsh@lb1(netns blue)> ")
        // A host without a name: the prompt as before.
        #expect(Prompt.text(host: nil, backend: "nft", namespace: .initial) == "lvsh(nft)> ")
        #expect(Prompt.text(host: "", backend: nil, namespace: .initial) == "lvsh> ")
    }

    @Test func hostNameIsTheShortName() throws {
        let name = try #require(Prompt.hostName())
        #expect(!name.isEmpty && !name.contains("."))
        let uts = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(uts.hasPrefix(name))
    }

    @Test func namespaceIsNamedByTheFileThatIsTheSameNamespace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsh-netns-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A symlink stands in for a bind mount: stat follows it to our own namespace file.
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/mine", withDestinationPath: "/proc/self/ns/net")
        #expect(NetworkNamespace.current(netnsDirectory: dir.path, initial: "/nonexistent") == .named("mine"))
        // Same as "PID 1": the host's namespace, whatever names it has.
        #expect(NetworkNamespace.current(netnsDirectory: dir.path, initial: "/proc/self/ns/net") == .initial)
        try FileManager.default.removeItem(atPath: dir.path + "/mine")
        #expect(NetworkNamespace.current(netnsDirectory: dir.path, initial: "/nonexistent") == .unknown)
        if case .anonymous = NetworkNamespace.current(netnsDirectory: dir.path, initial: "/proc/self/ns/uts") {} else {
            Issue.record("a readable, different initial namespace and no name: anonymous")
        }
    }

    @Test func historyFileFollowsHomeOrLVSHHistory() {
        // $HOME decides, whoever the password database says the user is (sudo -H, containers, tests).
        let env: [String: String] = ["HOME": "/home/ann"]
        #expect(HistoryFile.path(environment: { env[$0] }, home: { "/root" }) == "/home/ann/.lvsh_history")
        #expect(HistoryFile.path(environment: { ["HOME": "/tmp/t/"][$0] }, home: { "/root" }) == "/tmp/t/.lvsh_history")
        // Without HOME (or with an empty one): the password database's home.
        #expect(HistoryFile.path(environment: { _ in nil }, home: { "/root" }) == "/root/.lvsh_history")
        #expect(HistoryFile.path(environment: { ["HOME": ""][$0] }, home: { "/root" }) == "/root/.lvsh_history")
        #expect(HistoryFile.path(environment: { _ in nil }, home: { nil }) == nil)
        #expect(HistoryFile.path(environment: { ["LVSH_HISTORY": "/tmp/h", "HOME": "/home/ann"][$0] }, home: { "/root" }) == "/tmp/h")
        // An empty LVSH_HISTORY keeps no file.
        #expect(HistoryFile.path(environment: { ["LVSH_HISTORY": ""][$0] }, home: { "/root" }) == nil)
    }

    @Test func schedulersComeFromLoadedAndLoadableModules() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lvsh-mods-\(getpid())-\(UUID().uuidString)")
        let sys = root.appendingPathComponent("sys"), tree = root.appendingPathComponent("tree")
        let ipvs = tree.appendingPathComponent("kernel/net/netfilter/ipvs")
        try FileManager.default.createDirectory(at: ipvs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        for m in ["ip_vs", "ip_vs_rr", "nf_tables"] {
            try FileManager.default.createDirectory(at: sys.appendingPathComponent(m), withIntermediateDirectories: true)
        }
        for f in ["ip_vs.ko", "ip_vs_wlc.ko.xz", "ip_vs_rr.ko", "ip_vs_ftp.ko", "ip_vs_pe_sip.ko.zst", "ip_vs_mh.ko"] {
            _ = FileManager.default.createFile(atPath: ipvs.appendingPathComponent(f).path, contents: Data())
        }
        #expect(KernelFacts.schedulers(sysModule: sys.path, moduleTrees: [tree.path]) == ["mh", "rr", "wlc"])
        // Nothing readable: the mainline list, so TAB still helps.
        #expect(KernelFacts.schedulers(sysModule: "/nonexistent", moduleTrees: []).contains("wlc"))
    }
}
