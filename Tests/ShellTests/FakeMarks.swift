import Firewall
import LVSModel

/// Port groups kept in memory, with the rules every backend applies (GroupChange.apply).
final class FakeMarks: MarkBackend {
    let name = "fake"
    var stored: [PortGroup] = []
    private(set) var transactions: [[GroupChange]] = []
    /// Makes every update fail, as a kernel refusal would.
    var refusal: LVSError?

    func groups() throws(LVSError) -> [PortGroup] { stored }

    func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange] {
        let changes = try plan(stored)
        if let refusal { throw refusal }
        stored = try GroupChange.apply(changes, to: stored).groups
        transactions.append(changes)
        return changes
    }

    func rulesText() throws(LVSError) -> String { "fake rules for \(stored.map(\.name).joined(separator: ","))\n" }
}
