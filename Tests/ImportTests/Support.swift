import Engine
import Import
import IPVSAdm
import LVSModel
@testable import Shell
import Testing

/// The configuration's path in the in-memory file system.
let mainPath = "/etc/keepalived/keepalived.conf"

/// Imports `conf` (plus other files) and checks that lvsh's own evaluator takes the output.
func imported(_ conf: String, files: [String: String] = [:], groups: Bool = false, id: String? = "lb1",
              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (result: ImportResult, state: ManagedState) {
    var all = files
    all[mainPath] = conf
    let result = try KeepalivedImport.run(mainPath, files: MemoryFiles(all), options: .init(configID: id, groups: groups))
    let state = try evaluate(result.text, sourceLocation: sourceLocation)
    return (result, state)
}

/// The output as `lvsh apply` reads it (ipvsadm lines allowed).
func evaluate(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ManagedState {
    do {
        return try DesiredState.evaluate(text, file: "imported.lvsh", readSysctl: { _ in nil }, autoSysctl: false,
                                         ipvsadm: IPVSAdmLanguage()).state
    } catch {
        Issue.record("lvsh does not read the import back: \(error.message)\n\(text)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The import's failure message, or nil when it imported.
func failure(_ conf: String, files: [String: String] = [:], id: String? = "lb1") -> String? {
    var all = files
    all[mainPath] = conf
    do {
        _ = try KeepalivedImport.run(mainPath, files: MemoryFiles(all), options: .init(configID: id))
        return nil
    } catch {
        #expect(error.code == .badInput)
        return error.message
    }
}

/// Lines of the output that are commands (no comments, no blank lines).
func commands(_ r: ImportResult) -> [String] {
    r.text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
}

/// A virtual server around a body, the usual frame of the mapping tests.
func vs(_ body: String, head: String = "10.0.0.1 80") -> String {
    "virtual_server \(head) {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n\(body)\n}\n"
}

func v4(_ s: String) -> IPAddress { IPAddress(s)! }
