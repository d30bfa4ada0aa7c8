import Foundation
import Testing
import Shell
import IPVSAdm

/// Replays the corpora of the libFuzzer harnesses in tools/fuzz through the same entry points
/// (`ShellFuzzEntry`): every input the fuzzers found interesting, and every crash they found, must
/// come through. A failure here is a crash or a trap of the test process itself.
struct FuzzCorpusTests {
    static func corpus(_ harness: String) throws -> [URL] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../tools/fuzz/corpus/\(harness)").standardizedFileURL
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func tokenizeCorpusComesThrough() throws {
        let files = try Self.corpus("tokenize")
        #expect(files.count > 20)
        for file in files {
            try Data(contentsOf: file).withUnsafeBytes { ShellFuzzEntry.tokenizeAndParse($0) }
        }
    }

    @Test func ipvsadmCorpusComesThrough() throws {
        let files = try Self.corpus("ipvsadm")
        #expect(files.count > 20)
        for file in files {
            try Data(contentsOf: file).withUnsafeBytes { IPVSAdmFuzzEntry.ipvsadm($0) }
        }
    }
}
