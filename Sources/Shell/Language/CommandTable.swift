import LVSModel

/// One command of the language: its grammar, its help and what runs it.
public struct CommandSpec<Handler: Sendable>: Sendable {
    public let syntax: Syntax
    /// One line for `?` and `help`.
    public let summary: String
    /// Examples for `help COMMAND` and the reference; each must parse.
    public let examples: [String]
    public let handler: Handler

    public init(_ syntax: Syntax, summary: String, examples: [String] = [], handler: Handler) {
        self.syntax = syntax
        self.summary = summary
        self.examples = examples
        self.handler = handler
    }

    /// The grammar as one line: `real SERVICE ADDRESS[:PORT] [weight <0-65535>] ...`.
    public var usage: String { SyntaxText.render(syntax) }

    /// The leading keywords that name the command ("show services").
    public var name: String {
        guard case .sequence(let items) = syntax else {
            if case .word(let w, _) = syntax { return w }
            return ""
        }
        var words: [String] = []
        for item in items {
            guard case .word(let w, _) = item else { break }
            words.append(w)
        }
        return words.joined(separator: " ")
    }
}

/// Why words did not parse, and at which word.
public struct ParseFailure: Error, Sendable {
    public var message: String
    /// Index of the offending word; `words.count` when input ended too early.
    public var wordIndex: Int
}

/// All commands of a language, and everything derived from them: parsing, `?`, TAB and the reference.
public struct CommandTable<Handler: Sendable>: Sendable {
    public let commands: [CommandSpec<Handler>]

    public init(_ commands: [CommandSpec<Handler>]) { self.commands = commands }

    /// The one command the words mean, with its bindings.
    public func parse(_ words: [String]) -> Result<(CommandSpec<Handler>, Bindings), ParseFailure> {
        guard !words.isEmpty else { return .failure(ParseFailure(message: "empty command", wordIndex: 0)) }
        var complete: [(Int, Walker.State)] = []
        var furthest = -1
        var refusals: [(Leaf, String?)] = []
        var frontier: [Leaf] = []
        for (i, spec) in commands.enumerated() {
            var walker = Walker(words: words)
            for end in walker.walk(spec.syntax, .init(position: 0)) {
                if end.position == words.count {
                    complete.append((i, end))
                } else if end.position > walker.furthest {
                    // The command was whole before this word: say the word is one too many.
                    walker.furthest = end.position
                    walker.refusals = [(.word("<end of command>", help: ""), nil)]
                }
            }
            frontier += walker.frontier
            if walker.furthest > furthest {
                furthest = walker.furthest
                refusals = walker.refusals
            } else if walker.furthest == furthest {
                refusals += walker.refusals
            }
        }
        if !complete.isEmpty {
            // Exact keywords beat abbreviations; a tie between different commands is ambiguous.
            let best = complete.max { ($0.1.exactWords, -$0.1.abbreviated) < ($1.1.exactWords, -$1.1.abbreviated) }!
            let rivals = complete.filter { $0.1.exactWords == best.1.exactWords && $0.1.abbreviated == best.1.abbreviated }
            if unique(rivals.map(\.0)).count > 1 {
                let names = unique(rivals.map { commands[$0.0].usage })
                return .failure(ParseFailure(message: "ambiguous command: it could mean\n    \(names.joined(separator: "\n    "))\nType more of the keywords.", wordIndex: 0))
            }
            return .success((commands[best.0], best.1.bindings))
        }
        if !frontier.isEmpty || furthest < 0 {
            let next = unique(frontier).map(\.display)
            return .failure(ParseFailure(message: "incomplete command: expected \(list(next))", wordIndex: words.count))
        }
        let word = words[furthest]
        let keywords = unique(refusals.compactMap { r -> String? in if case .word(let w, _) = r.0 { return w } else { return nil } })
        let matching = keywords.filter { $0.hasPrefix(word) }
        if matching.count > 1 {
            return .failure(ParseFailure(message: "'\(word)' is ambiguous: it could be \(list(matching))", wordIndex: furthest))
        }
        if let problem = refusals.compactMap(\.1).first {
            return .failure(ParseFailure(message: problem, wordIndex: furthest))
        }
        let expected = unique(refusals.map(\.0.display))
        if expected == ["<end of command>"] {
            return .failure(ParseFailure(message: "unexpected '\(word)': the command ends before it (quote a value that has spaces)", wordIndex: furthest))
        }
        let what = furthest == 0 ? "unknown command '\(word)'" : "unexpected '\(word)'"
        return .failure(ParseFailure(message: "\(what): expected \(list(expected))", wordIndex: furthest))
    }

    /// What may follow the given complete words, with one line of help each (the `?` key).
    public func next(after words: [String]) -> [Leaf] {
        var leaves: [Leaf] = []
        var endsHere = false
        for spec in commands {
            var walker = Walker(words: words)
            let ends = walker.walk(spec.syntax, .init(position: 0))
            if ends.contains(where: { $0.position == words.count }) && !words.isEmpty { endsHere = true }
            leaves += walker.frontier
        }
        var result = unique(leaves)
        if endsHere { result.append(.word("<cr>", help: "run the command")) }
        return result
    }

    /// Completions of a partial word after complete ones (the TAB key). Live values come from `live`.
    public func complete(_ partial: String, after words: [String], live: (ValueKind) -> [String]) -> [String] {
        var out: [String] = []
        for leaf in next(after: words) {
            switch leaf {
            case .word(let w, _) where w != "<cr>" && w.hasPrefix(partial):
                out.append(w)
            case .value(_, let kind, _):
                out += live(kind).filter { $0.hasPrefix(partial) }
            default:
                break
            }
        }
        return unique(out).sorted()
    }

    private func list(_ items: [String]) -> String {
        switch items.count {
        case 0: "nothing more"
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " or " + items.last!
        }
    }
}

/// Renders grammar as text for help and the reference.
enum SyntaxText {
    static func render(_ s: Syntax) -> String {
        switch s {
        case .word(let w, _): w
        case .value(_, let k, _): k.metavariable
        case .rest(let n, _): n.uppercased() + "..."
        case .sequence(let items): items.map(render).joined(separator: " ")
        case .optional(let inner): "[" + render(inner) + "]"
        case .choice(let alts): alts.count == 1 ? render(alts[0]) : "(" + alts.map(render).joined(separator: " | ") + ")"
        case .oneOf(_, let words): words.map(\.word).joined(separator: "|")
        case .repeated(let inner): render(inner) + " ..."
        case .anyOrder(let parts): parts.map { "[" + render($0) + "]" }.joined(separator: " ")
        }
    }
}
