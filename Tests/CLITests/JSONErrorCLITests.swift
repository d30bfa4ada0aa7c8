import Foundation
import Testing

/// `--json` failures: standard output carries only JSON results; standard error carries one JSON
/// object `{"error": MESSAGE, "code": N}`, N being the exit status.
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct JSONErrorCLITests {
    /// The one JSON object on standard error.
    static func errorObject(_ r: CLILab.Result) -> [String: Any]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(r.err.utf8)) as? [String: Any] else { return nil }
        return object
    }

    struct Case: CustomStringConvertible, Sendable {
        var args: [String]
        var status: Int32
        /// A phrase of the error message.
        var phrase: String
        var description: String { args.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(args: ["show", "groups", "--json", "bogus"], status: 2, phrase: "unexpected 'bogus'"),
        Case(args: ["--json", "show", "groups", "bogus"], status: 2, phrase: "unexpected 'bogus'"),
        Case(args: ["--json", "-c", "group x vip 10.0.0.300 tcp 1"], status: 2, phrase: "'10.0.0.300' is not an IPv4 or IPv6 address"),
        Case(args: ["show", "services", "--json"], status: 1, phrase: "IPVS"),
        Case(args: ["--json", "--backend"], status: 2, phrase: "--backend needs a value"),
        Case(args: ["--json", "-f", "/nonexistent/x.lvsh"], status: 2, phrase: "cannot read /nonexistent/x.lvsh"),
    ]

    @Test("a failing --json command prints one JSON error object on stderr and nothing on stdout", arguments: cases)
    func failure(_ c: Case) throws {
        let ns = try Netns()
        let r = try ns.run([CLILab.lvsh] + c.args)
        #expect(r.status == c.status, "\(r)")
        #expect(r.out.isEmpty, "\(r)")
        let object = Self.errorObject(r)
        #expect(object != nil, "stderr is not one JSON object: \(r)")
        #expect((object?["error"] as? String)?.contains(c.phrase) == true, "\(r)")
        #expect(object?["code"] as? Int == Int(c.status), "\(r)")
    }

    @Test("apply --json keeps its result on stdout (the ansible module's shape) and says the error on stderr as JSON")
    func apply() throws {
        let ns = try Netns()
        let file = try ns.file("bad.lvsh", "group x vip 10.0.0.1 tcp 80-70\n")
        let r = try ns.lvsh("apply", file, "--json")
        #expect(r.status == 2, "\(r)")
        let result = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect(result?["failed"] as? Bool == true && result?["changed"] as? Bool == false, "\(r)")
        #expect((result?["msg"] as? String)?.contains("runs backwards") == true, "\(r)")
        let object = Self.errorObject(r)
        #expect((object?["error"] as? String)?.contains("runs backwards") == true, "\(r)")
        #expect(object?["code"] as? Int == 2, "\(r)")
    }

    @Test("a --json command that succeeds prints its JSON on stdout and nothing on stderr")
    func success() throws {
        let ns = try Netns()
        #expect(try ns.lvsh("group", "web", "vip", "192.0.2.1", "tcp", "80").status == 0)
        let r = try ns.lvsh("show", "groups", "--json")
        #expect(r.status == 0 && r.err.isEmpty, "\(r)")
        #expect(r.out.hasPrefix("{\"groups\":[{\"name\":\"web\""), "\(r)")
    }
}
