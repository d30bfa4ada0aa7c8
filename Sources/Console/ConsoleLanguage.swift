import LVSModel
import Shell

/// What `?` prints and what TAB offers for a line, from the one command table (STYLE.md §6) plus the
/// output filters (`| include REGEX`, OutputFilter.table) that the batch runner applies after shows.
public struct ConsoleLanguage {
    public let table: CommandTable<CommandAction>
    public let live: LiveValues

    public init(table: CommandTable<CommandAction> = Catalog.table, live: LiveValues) {
        self.table = table
        self.live = live
    }

    static let pipe = Leaf.word("|", help: "filter the output: include, exclude, begin, count, no-more")
    static let end = Leaf.word("<cr>", help: "run the command")

    /// What may stand where the cursor is, after `words`: the command's grammar, then after each `|`
    /// the output filters' (OutputFilter.table), which may follow each other.
    func leaves(after words: [String]) -> [Leaf] {
        if let bar = words.lastIndex(of: "|") {
            let stage = Array(words[(bar + 1)...])
            var leaves = OutputFilter.table.next(after: stage)
            if leaves.contains(Self.end) { leaves.append(Self.pipe) }
            return leaves
        }
        var leaves = table.next(after: words)
        if leaves.contains(Self.end), case .success(let (command, _)) = table.parse(words) {
            switch command.handler {
            case .show, .ipvsadm, .help: leaves.append(Self.pipe)
            default: break
            }
        }
        return leaves
    }

    /// Whether `?` is part of what is typed rather than a request for help: inside quotes, in a
    /// comment, and within a regular expression (`| include colou?r`).
    public func takesQuestionMarkLiterally(_ line: LineWords) -> Bool {
        if line.quote != nil || line.inComment { return true }
        return !line.partial.isEmpty && leaves(after: line.words).contains {
            if case .value(_, .regex, _) = $0 { true } else { false }
        }
    }

    /// The `?` key: each possible next word (or the words that start with the partial one) with its help.
    public func help(for line: LineWords) -> String {
        let all = leaves(after: line.words)
        guard !all.isEmpty else {
            if case .failure(let f) = table.parse(line.words + (line.partial.isEmpty ? [] : [line.partial])) {
                return "% " + f.message + "\n"
            }
            return "% nothing can follow here\n"
        }
        let shown = all.filter { matches($0, line.partial, after: line.words) }
        guard !shown.isEmpty else {
            return "% nothing here starts with '\(Shown.word(line.partial))'; expected:\n" + rows(all)
        }
        return rows(shown)
    }

    private func matches(_ leaf: Leaf, _ partial: String, after words: [String]) -> Bool {
        guard !partial.isEmpty else { return true }
        switch leaf {
        case .word(let w, _): return w != "<cr>" && w.hasPrefix(partial)
        case .value(_, let kind, _):
            return kind.problem(with: partial) == nil || live.values(kind, after: words).contains { $0.hasPrefix(partial) }
        case .rest: return true
        }
    }

    /// Two columns, the word or metavariable and its help, like a router's CLI.
    private func rows(_ leaves: [Leaf]) -> String {
        let width = min(28, leaves.map(\.display.count).max() ?? 0)
        return leaves.map { leaf in
            let d = leaf.display
            return "  " + d + String(repeating: " ", count: max(1, width - d.count + 2)) + leaf.help + "\n"
        }.joined()
    }

    /// The TAB key: the words and live values that complete the partial word, sorted.
    public func completions(for line: LineWords) -> [String] {
        guard !line.inComment else { return [] }
        let words = line.words, partial = line.partial
        if words.contains("|") {
            return leaves(after: words).compactMap { leaf -> String? in
                if case .word(let w, _) = leaf, w != "<cr>", w.hasPrefix(partial) { return w }
                return nil
            }.sorted()
        }
        var out = table.complete(partial, after: words, live: { live.values($0, after: words) })
        if "|".hasPrefix(partial) && leaves(after: words).contains(Self.pipe) { out.append("|") }
        return out
    }

    /// What TAB does to the partial word: the whole of a single candidate and a space after it, else
    /// the longest prefix all candidates share (nil when that adds nothing, and the candidates are listed).
    public static func insertion(for line: LineWords, candidates: [String]) -> String? {
        if candidates.count == 1 { return quoted(candidates[0]) + " " }
        guard var common = candidates.first else { return nil }
        for c in candidates.dropFirst() {
            while !c.hasPrefix(common) { common.removeLast() }
        }
        return common.count > line.partial.count ? quoted(common) : nil
    }

    /// A candidate as it must be typed: in single quotes when it holds characters the tokenizer splits on.
    static func quoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_.:/,[]@%+=|".contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// Candidates in columns across a terminal of `width` characters.
    public static func columns(_ items: [String], width: Int) -> String {
        let cell = (items.map(\.count).max() ?? 0) + 2
        let perRow = max(1, width / max(cell, 1))
        var out = ""
        for (i, item) in items.enumerated() {
            let last = i % perRow == perRow - 1 || i == items.count - 1
            out += last ? item + "\n" : item + String(repeating: " ", count: cell - item.count)
        }
        return out
    }
}
