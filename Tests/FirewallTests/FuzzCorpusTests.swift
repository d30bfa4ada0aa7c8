import Foundation
import Testing
import Firewall

/// Replays the corpus of the `netlink` libFuzzer harness in tools/fuzz through `FirewallFuzzEntry`, as
/// the harness does after `IPVSFuzzEntry` (Tests/IPVSTests replays them through that).
struct FuzzCorpusTests {
    @Test func netlinkCorpusComesThroughTheElementReader() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../tools/fuzz/corpus/netlink").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
        #expect(files.count > 10)
        for file in files {
            try Data(contentsOf: file).withUnsafeBytes { FirewallFuzzEntry.decodeElement($0) }
        }
    }
}
