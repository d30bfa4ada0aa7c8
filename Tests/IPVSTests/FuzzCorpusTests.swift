import Foundation
import Testing
import IPVS

/// Replays the corpus of the `netlink` libFuzzer harness in tools/fuzz through its entry point
/// (`IPVSFuzzEntry`; Tests/FirewallTests replays the same files through `FirewallFuzzEntry`).
struct FuzzCorpusTests {
    @Test func netlinkCorpusComesThrough() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../tools/fuzz/corpus/netlink").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        #expect(files.count > 10)
        for file in files {
            try Data(contentsOf: file).withUnsafeBytes { IPVSFuzzEntry.decodeReply($0) }
        }
    }
}
