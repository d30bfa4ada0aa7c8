import IPVS
import LVSModel

/// `ipvsadm -R`, made atomic: every line is parsed and checked against the current
/// table before anything is applied, then all operations run in one batch.
///
/// ipvsadm applies line by line, stops at the first line its parser rejects
/// (keeping what came before), and only reports kernel refusals such as a service
/// that already exists; lvsh refuses the whole input in all these cases.
public enum IPVSAdmRestore {
    /// One command line of the input.
    public struct Line: Hashable, Sendable {
        public var number: Int
        public var text: String
        public var command: IPVSAdmCommand
    }

    /// The words of one input line, as ipvsadm's `config_stream_read` splits them:
    /// blanks separate words and every word "ipvsadm" is dropped, so `-S` output and
    /// shell-style "ipvsadm -A ..." lines both work.  A word starting with '#' starts a
    /// comment (ipvsadm means to allow comments but its reader fails on them).
    static func words(of line: Substring) -> [String] {
        var words: [String] = []
        for w in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
            if w.hasPrefix("#") { break }
            if w != "ipvsadm" { words.append(String(w)) }
        }
        return words
    }

    /// Parses every line; the first bad one stops it, named with its number and text.
    public static func lines(_ input: String) throws(LVSError) -> [Line] {
        var result: [Line] = []
        for (i, raw) in input.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = words(of: raw)
            if words.isEmpty { continue }
            let text = words.joined(separator: " ")
            let command: IPVSAdmCommand
            do {
                command = try IPVSAdmParser.parse(words)
            } catch {
                throw .badInput(lineError(i + 1, text, error.message))
            }
            guard command.command.changesState else {
                throw .badInput(lineError(i + 1, text, "\(command.command.label) does not change the table and cannot be part of -R input; "
                    + "-R takes -A -E -D -C -Z -a -e -d --set --start-daemon and --stop-daemon lines"))
            }
            result.append(Line(number: i + 1, text: text, command: command))
        }
        return result
    }

    /// One kernel operation and the input line it comes from.
    public struct Step: Hashable, Sendable {
        public var operation: IPVSOperation
        public var line: Line
    }

    /// The operations of the whole input, checked in order against the current state
    /// (and each other): nothing is returned unless the kernel should accept them all.
    public static func plan(_ input: String, table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts) throws(LVSError) -> [Step] {
        try plan(lines(input), table: table, daemons: daemons, timeouts: timeouts)
    }

    /// The operations of parsed lines, checked as `plan(_:table:daemons:timeouts:)` does.
    public static func plan(_ lines: [Line], table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts) throws(LVSError) -> [Step] {
        var model = IPVSStateModel(table: table, daemons: daemons, timeouts: timeouts)
        var steps: [Step] = []
        for line in lines {
            for op in line.command.operations {
                if let e = model.apply(op) {
                    // A refused operation leaves the model as it was: its table is the one before.
                    let reason = IPVSAdmErrors.message(for: IPVSFailure(operation: op, errno: e), table: context(for: op, model))
                    throw .badInput(lineError(line.number, line.text, reason + explanation(op, errno: e)))
                }
                steps.append(Step(operation: op, line: line))
            }
        }
        return steps
    }

    /// What undoes the operations that succeeded (results[i] == nil), newest first.
    public static func rollback(_ operations: [IPVSOperation], results: [IPVSFailure?], table: IPVSTable,
                                daemons: [SyncDaemon], timeouts: Timeouts) -> [IPVSOperation] {
        var model = IPVSStateModel(table: table, daemons: daemons, timeouts: timeouts)
        var undo: [[IPVSOperation]] = []
        for (op, result) in zip(operations, results) where result == nil {
            undo.append(model.inverse(of: op))
            _ = model.apply(op)
        }
        return undo.reversed().flatMap { $0 }
    }

    /// The table for the message, built only where the message uses it.
    private static func context(for op: IPVSOperation, _ model: IPVSStateModel) -> IPVSTable? {
        switch op {
        case .editRealServer(let k, _), .deleteRealServer(let k, _): model[k].map { IPVSTable(services: [$0]) }
        default: nil
        }
    }

    private static func lineError(_ number: Int, _ text: String, _ reason: String) -> String {
        "-R line \(number) (\(text)): \(reason)\nnothing was applied"
    }

    /// Where the model's prediction rests on a guess or on earlier lines, say so.
    private static func explanation(_ op: IPVSOperation, errno e: Int32) -> String {
        switch (op, e) {
        case (.addService, IPVSStateModel.Errno.noent), (.editService, IPVSStateModel.Errno.noent):
            " (lvsh checks -R input against the schedulers and persistence engines mainline Linux ships)"
        case (.addService, IPVSStateModel.Errno.exist):
            " (it is in the kernel or added by an earlier line)"
        case (.addRealServer, IPVSStateModel.Errno.srch), (.editRealServer, IPVSStateModel.Errno.srch):
            " (it is neither in the kernel nor added by an earlier line)"
        default:
            ""
        }
    }
}
