import Foundation
import LVSModel
@testable import Shell
import System
import Testing

/// Every `show` command of the command table honours --json (and its trailing `json` word): its
/// output parses as one JSON object. A new show command must be added to `invocations`, so one
/// without JSON cannot slip in.
struct ShowJSONTests {
    /// Each show command's name and the words that run it (values filled in).
    static func invocations(file: String) -> [String: [String]] {
        [
            "show services": ["show", "services"],
            "show groups": ["show", "groups"],
            "show rules": ["show", "rules"],
            "show timeouts": ["show", "timeouts"],
            "show sync": ["show", "sync"],
            "show connections": ["show", "connections"],
            "show version": ["show", "version"],
            "show health": ["show", "health"],
            "show checks": ["show", "checks"],
            "show sysctl": ["show", "sysctl"],
            "show running-config": ["show", "running-config"],
            "show diff": ["show", "diff", file],
            "show archive": ["show", "archive"],
            "show diff archive": ["show", "diff", "archive", "0"],
        ]
    }

    @Test("the list below names every show command")
    func coversEveryShow() {
        let shows = Set(Catalog.table.commands.map(\.name).filter { $0.hasPrefix("show ") })
        #expect(shows == Set(Self.invocations(file: "f").keys))
    }

    @Test("every show command's --json output and its `json` word parse as a JSON object", arguments: [true, false])
    func everyShowParses(flag: Bool) throws {
        let r = try ChangeHistoryTests.Recorded()
        #expect(r.run("group web vip 192.168.61.129 tcp 80,443\nservice web scheduler wlc\nreal web 192.168.147.129 nat weight 2") == 0, "\(r.host.err)")
        try r.scratch.put("site.lvsh", "service tcp 10.0.0.5:80 scheduler rr\n")
        for (name, words) in Self.invocations(file: r.scratch.at("site.lvsh")).sorted(by: { $0.key < $1.key }) {
            let session = r.session(SessionOptions(json: flag))
            // `show health` and `show checks` answer inside lvsh daemon.
            session.healthStatus = { [] }
            r.host.out = ""
            r.host.err = ""
            let code = session.runCommandLine(words + (flag ? [] : ["json"]))
            if name == "show connections" && r.host.err.contains("IPVS is not loaded") { continue }
            #expect(code == 0, "\(name): \(r.host.err)")
            let parsed = try? JSONSerialization.jsonObject(with: Data(r.host.out.utf8))
            #expect(parsed is [String: Any], "\(name) --json printed: \(r.host.out)")
        }
    }
}
