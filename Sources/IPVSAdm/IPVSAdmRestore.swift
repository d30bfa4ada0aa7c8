import IPVS
import LVSModel

/// `ipvsadm -R`, made atomic: every line is parsed and checked against the current
/// table before anything is applied, then all operations run in one batch.
///
/// ipvsadm applies line by line, stops at the first line its parser rejects
/// (keeping what came before), and only reports kernel refusals such as a service
/// that already exists; lvsh refuses the whole input in all these cases.
///
/// Inputs can be large (10,000 services with 4 real servers each: 50,000 lines), so
/// a parsed input keeps just the operations and their line numbers; a line's text is
/// found again only for a message.
public enum IPVSAdmRestore {
    /// The parsed input: its operations in order, each with the line it comes from.
    public struct Input: Sendable {
        /// The input as given, for the text of lines named in messages.
        public let text: String
        public private(set) var operations: [IPVSOperation] = []
        /// `lineNumbers[i]` is the line (from 1) that `operations[i]` comes from.
        public private(set) var lineNumbers: [Int32] = []
        /// Warnings of the parser, with their line numbers, in input order.
        public private(set) var warnings: [(line: Int, text: String)] = []

        init(text: String) { self.text = text }

        /// The line's words as `-R` reads them, joined by single blanks: how messages quote a line.
        public func lineText(_ number: Int) -> String {
            IPVSAdmRestore.lineText(number, in: text)
        }

        /// The texts of several lines, found in one pass over the input: a kernel may refuse many.
        public func lineTexts(_ numbers: some Sequence<Int>) -> [Int: String] {
            let wanted = Set(numbers)
            var ranges: [Int: Range<Int>] = [:]
            CNumberParsing.withBytes(text) { bytes in
                IPVSAdmRestore.forEachLine(bytes) { n, range in
                    if wanted.contains(n) { ranges[n] = range }
                    return ranges.count < wanted.count
                }
            }
            return ranges.mapValues { IPVSAdmRestore.words(of: IPVSAdmRestore.substring(text, $0)).joined(separator: " ") }
        }

        /// The line of `operations[index]`.
        public func line(ofOperation index: Int) -> Int { Int(lineNumbers[index]) }

        mutating func append(_ command: IPVSAdmCommand, line: Int) {
            let operations = command.operations
            self.operations.append(contentsOf: operations)
            lineNumbers.append(contentsOf: repeatElement(Int32(line), count: operations.count))
            for w in command.warnings { warnings.append((line, w)) }
        }
    }

    /// The words of one input line, as ipvsadm's `config_stream_read` splits them:
    /// blanks separate words and every word "ipvsadm" is dropped, so `-S` output and
    /// shell-style "ipvsadm -A ..." lines both work.  A word starting with '#' starts a
    /// comment (ipvsadm means to allow comments but its reader fails on them).
    ///
    /// This is the reference: `asciiWords` gives the same words for plain ASCII lines.
    package static func words(of line: Substring) -> [String] {
        var words: [String] = []
        for w in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
            if w.hasPrefix("#") { break }
            if w != "ipvsadm" { words.append(String(w)) }
        }
        return words
    }

    /// `words(of:)` for a line of ASCII bytes without a CR LF pair, where every byte is one
    /// Character (a CR followed by LF would be a single Character, which `words(of:)` does not
    /// split at): puts them in `words` and returns true. Returns false for any other line,
    /// which `words(of:)` then reads. Reads bytes because `-R` inputs are 50,000 lines.
    package static func asciiWords(_ line: UnsafeBufferPointer<UInt8>, into words: inout [String]) -> Bool {
        words.removeAll(keepingCapacity: true)
        var i = 0
        var comment = false
        while i < line.count {
            let c = line[i]
            if c >= 0x80 || (c == 0x0d && i + 1 < line.count && line[i + 1] == 0x0a) { return false }
            if c == 0x20 || c == 0x09 || c == 0x0d {
                i += 1
                continue
            }
            var end = i + 1
            while end < line.count, line[end] != 0x20, line[end] != 0x09, line[end] != 0x0d, line[end] < 0x80 { end += 1 }
            // The rest of the line must still be checked: a non-ASCII byte after a comment
            // sends the whole line to words(of:), which then reads the same words.
            if !comment {
                let word = UnsafeBufferPointer(rebasing: line[i..<end])
                if c == UInt8(ascii: "#") {
                    comment = true
                } else if !(word.count == ipvsadmWord.count && word.elementsEqual(ipvsadmWord)) {
                    words.append(String(decoding: word, as: UTF8.self))
                }
            }
            i = end
        }
        return true
    }

    private static let ipvsadmWord: [UInt8] = Array("ipvsadm".utf8)

    /// Calls `body` with each line's number (from 1) and byte range, as `split(separator: "\n",
    /// omittingEmptySubsequences: false)` cuts a String into Characters: at every LF that does
    /// not follow a CR (CR LF is one Character, not "\n").
    package static func forEachLine(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Int, Range<Int>) -> Bool) {
        var number = 1
        var start = 0
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0a && (i == 0 || bytes[i - 1] != 0x0d) {
                if !body(number, start..<i) { return }
                number += 1
                start = i + 1
            }
            i += 1
        }
        _ = body(number, start..<bytes.count)
    }

    /// The text of line `number` as messages quote it: its words joined by single blanks.
    static func lineText(_ number: Int, in input: String) -> String {
        var found: Range<Int>?
        CNumberParsing.withBytes(input) { bytes in
            forEachLine(bytes) { n, range in
                if n == number { found = range }
                return n < number
            }
        }
        guard let found else { return "" }
        return words(of: substring(input, found)).joined(separator: " ")
    }

    /// The part of `text` at these UTF-8 offsets, which lie on Character boundaries.
    package static func substring(_ text: String, _ range: Range<Int>) -> Substring {
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
        return Substring(utf8[start..<utf8.index(start, offsetBy: range.count)])
    }

    /// Parses every line; the first bad one stops it, named with its number and text.
    public static func parse(_ input: String) throws(LVSError) -> Input {
        var result = Input(text: input)
        var failure: LVSError?
        CNumberParsing.withBytes(input) { bytes in
            var words: [String] = []
            forEachLine(bytes) { number, range in
                let line = UnsafeBufferPointer(rebasing: bytes[range])
                if !asciiWords(line, into: &words) {
                    words = IPVSAdmRestore.words(of: substring(input, range))
                }
                if words.isEmpty { return true }
                do throws(LVSError) {
                    let command = try IPVSAdmParser.parse(words)
                    guard command.command.changesState else {
                        throw .badInput("\(command.command.label) does not change the table and cannot be part of -R input; "
                            + "-R takes -A -E -D -C -Z -a -e -d --set --start-daemon and --stop-daemon lines")
                    }
                    result.append(command, line: number)
                    return true
                } catch {
                    failure = .badInput(lineError(number, words.joined(separator: " "), error.message))
                    return false
                }
            }
        }
        if let failure { throw failure }
        return result
    }

    /// Checks the operations in order against the current state (and each other): returns
    /// only if the kernel should accept them all.
    public static func check(_ input: Input, table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts) throws(LVSError) {
        var model = IPVSStateModel(table: table, daemons: daemons, timeouts: timeouts)
        model.reserveCapacity(services: input.operations.reduce(0) { if case .addService = $1 { $0 + 1 } else { $0 } })
        for (i, op) in input.operations.enumerated() {
            if let e = model.apply(op) {
                // A refused operation leaves the model as it was: its table is the one before.
                let reason = IPVSAdmErrors.message(for: IPVSFailure(operation: op, errno: e), table: context(for: op, model))
                let line = input.line(ofOperation: i)
                throw .badInput(lineError(line, input.lineText(line), reason + explanation(op, errno: e)))
            }
        }
    }

    /// What undoes the operations that succeeded (all but `failed`, ascending indices), newest first.
    public static func rollback(_ operations: [IPVSOperation], failed: [Int], table: IPVSTable,
                                daemons: [SyncDaemon], timeouts: Timeouts) -> [IPVSOperation] {
        var model = IPVSStateModel(table: table, daemons: daemons, timeouts: timeouts)
        var undo: [[IPVSOperation]] = []
        var failures = failed[...]
        for (i, op) in operations.enumerated() {
            if failures.first == i {
                failures.removeFirst()
                continue
            }
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
