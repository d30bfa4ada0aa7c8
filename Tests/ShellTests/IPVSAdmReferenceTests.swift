import Testing
import LVSModel
@testable import Shell
import IPVSAdm

/// lvsh against the real ipvsadm 1.31, command line by command line: the same
/// lines are accepted and rejected, and accepted lines make the same kernel requests.
@Suite struct IPVSAdmReferenceTests {
    @Test(arguments: ipvsadmReferenceCases.indices)
    func matchesIPVSAdm(_ index: Int) throws {
        let c = ipvsadmReferenceCases[index]
        let line = c.args.joined(separator: " ")
        // ipvsadm exits 2 (its own checks) or 255 (popt, usage) for bad input; 1 for a failed read.
        if c.exit == 2 || c.exit == 255 {
            #expect(throws: LVSError.self, "ipvsadm rejects '\(line)'") { try IPVSAdmParser.parse(c.args) }
            return
        }
        let command = try IPVSAdmParser.parse(c.args)
        switch command.request {
        case .apply(let ops):
            #expect(ops.map(ReferenceLog.line) == c.requests, "'\(line)'")
        default:
            #expect(c.requests.isEmpty, "'\(line)' made kernel requests in ipvsadm")
        }
    }

    @Test func rejectionsCarryBadInputCode() {
        for c in ipvsadmReferenceCases where c.exit == 2 || c.exit == 255 {
            do {
                _ = try IPVSAdmParser.parse(c.args)
            } catch {
                #expect(error.code == .badInput)
                #expect(!error.message.isEmpty)
            }
        }
    }
}
