import Foundation
import Import
import LVSModel
import Testing

/// Debian's keepalived samples (/usr/share/doc/keepalived/samples): every one imports (warnings allowed),
/// and lvsh's evaluator reads every output back.
struct SampleTests {
    static let folder = "/usr/share/doc/keepalived/samples"
    static let samples: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        .filter { $0.hasPrefix("keepalived.conf") }.sorted()

    struct Disk: ImportFiles {
        func read(_ path: String, limit: Int) throws(LVSError) -> [UInt8] {
            guard let d = FileManager.default.contents(atPath: path) else { throw .badInput("\(path): cannot read") }
            return Array(d)
        }
        func glob(_ pattern: String) -> [String] { FileManager.default.fileExists(atPath: pattern) ? [pattern] : [] }
    }

    @Test("every keepalived sample imports and reads back", .enabled(if: !samples.isEmpty, "keepalived's samples are not installed"),
          arguments: samples)
    func sample(_ name: String) throws {
        for id in ["high", "low", nil] as [String?] {
            let r = try KeepalivedImport.run(Self.folder + "/" + name, files: Disk(), options: .init(configID: id))
            _ = try evaluate(r.text)
            let merged = try KeepalivedImport.run(Self.folder + "/" + name, files: Disk(), options: .init(configID: id, groups: true))
            _ = try evaluate(merged.text)
        }
    }

    @Test("the samples' LVS content comes across", .enabled(if: samples.contains("keepalived.conf.virtual_server_group")))
    func content() throws {
        let r = try KeepalivedImport.run(Self.folder + "/keepalived.conf.virtual_server_group", files: Disk(), options: .init(groups: true))
        let state = try evaluate(r.text)
        #expect(state.groups.count == 1 && state.services.count == 3, "one group, fwmark 1 and fwmark 2:\n\(r.text)")
        #expect(state.health.checks.count == 1)
    }
}
