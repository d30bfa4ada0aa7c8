import LVSModel

/// `help` over a command table: every command form once with its arguments, or the forms a topic of
/// several words names (`help group add`, `help show services`), with their examples.
public struct CommandHelp<Handler: Sendable> {
    public let table: CommandTable<Handler>
    /// Lines after the list of commands (the output filters, which are not commands of the table).
    public var footer = ""

    public init(table: CommandTable<Handler>, footer: String = "") {
        self.table = table
        self.footer = footer
    }

    /// Each form once: its usage (options folded into [OPTION...]) and its summary under it.
    public func overview() -> String {
        var seen = Set<String>()
        var out = "Commands (`help WORDS` for one in detail, `?` in the console for what may come next):\n"
        for c in table.commands where seen.insert(SyntaxText.brief(c.syntax)).inserted {
            out += "  \(SyntaxText.brief(c.syntax))\n      \(c.summary)\n"
        }
        return out + footer
    }

    /// The forms `topic` names, in detail; a topic that names none is bad input with the nearest words.
    public func explain(_ topic: [String]) throws(LVSError) -> String {
        let forms = try commands(for: topic)
        return forms.map { c in
            "\(c.usage)\n    \(c.summary)\n" + c.examples.map { "    e.g. \($0)\n" }.joined()
        }.joined(separator: "\n")
    }

    /// The commands whose first keyword the topic's first word is (or starts, when no first keyword is
    /// that word) and whose later keywords include the topic's other words, in order.
    func commands(for topic: [String]) throws(LVSError) -> [CommandSpec<Handler>] {
        var matching: [(spec: CommandSpec<Handler>, keywords: ArraySlice<String>)] = table.commands.map { ($0, Self.keywords($0.syntax)[...]) }
        for (i, word) in topic.enumerated() {
            var next: [(spec: CommandSpec<Handler>, keywords: ArraySlice<String>)] = []
            if i == 0 {
                let exact = matching.contains { $0.keywords.first == word }
                for m in matching {
                    guard let first = m.keywords.first, exact ? first == word : first.hasPrefix(word) else { continue }
                    next.append((m.spec, m.keywords.dropFirst()))
                }
            } else {
                for m in matching {
                    let at = m.keywords.firstIndex(of: word) ?? m.keywords.firstIndex { $0.hasPrefix(word) }
                    if let at { next.append((m.spec, m.keywords[(at + 1)...])) }
                }
            }
            guard !next.isEmpty else {
                let possible = i == 0 ? matching.compactMap(\.keywords.first) : matching.flatMap { Array($0.keywords) }
                let near = Wording.nearMisses(word, among: possible)
                let before = topic[..<i].joined(separator: " ")
                let what = i == 0 ? "no command '\(Shown.word(word))'" : "no `\(before)` command has '\(Shown.word(word))'"
                let hint = near.isEmpty ? (i == 0 ? "`help` lists the commands" : "`help \(before)` lists them")
                    : "did you mean \(Wording.list(near.map { (topic[..<i] + [$0]).joined(separator: " ") }))?"
                throw .badInput("help: \(what): \(hint)")
            }
            matching = next
        }
        return matching.map(\.spec)
    }

    /// A grammar's keywords in the order they appear (choices' words included).
    static func keywords(_ s: Syntax) -> [String] {
        switch s {
        case .word(let w, _): [w]
        case .oneOf(_, let words): words.map(\.word)
        case .value, .rest: []
        case .sequence(let items), .choice(let items), .anyOrder(let items): items.flatMap(keywords)
        case .optional(let inner), .repeated(let inner): keywords(inner)
        }
    }
}

extension SyntaxText {
    /// The grammar for a list of commands: as `render`, with long lists of options a command takes in
    /// any order shown as [OPTION...] (`help WORDS` spells them out).
    static func brief(_ s: Syntax) -> String {
        switch s {
        case .anyOrder where render(s).count > 72: "[OPTION...]"
        case .sequence(let items): items.map(brief).joined(separator: " ")
        case .optional(let inner): "[" + brief(inner) + "]"
        case .choice(let alts): alts.count == 1 ? brief(alts[0]) : "(" + alts.map(brief).joined(separator: " | ") + ")"
        case .repeated(let inner): brief(inner) + " ..."
        case .anyOrder(let parts): parts.map { "[" + brief($0) + "]" }.joined(separator: " ")
        default: render(s)
        }
    }
}
