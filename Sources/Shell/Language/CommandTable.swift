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
    /// Each command's leading keyword, if it has one: a line is walked only through the commands
    /// its first word can start (a 50,000-line apply file would otherwise walk every command).
    private let leadingKeywords: [String?]
    /// Every keyword that may start a command: what a first word abbreviates is judged against these.
    private let firstWords: [String]

    public init(_ commands: [CommandSpec<Handler>]) {
        self.commands = commands
        leadingKeywords = commands.map { spec in
            switch spec.syntax {
            case .word(let w, _): w
            case .sequence(let items): if case .word(let w, _)? = items.first { w } else { nil }
            default: nil
            }
        }
        firstWords = Abbreviations.first(of: commands.map(\.syntax))
    }

    /// `parse(_:)` for one of many commands: commands of a shape parsed before cost only their value
    /// checks (see ParseMemo).
    public func parse(_ words: [String], memo: inout ParseMemo) -> Result<(CommandSpec<Handler>, Bindings), ParseFailure> {
        guard !words.isEmpty else { return parse(words) }
        if memo.keywordPrefixes.isEmpty {
            memo.keywordPrefixes = keywordPrefixes()
            for w in memo.keywordPrefixes { if let b = w.utf8.first { memo.keywordStarts[Int(b)] = true } }
        }
        // Most value words (addresses, numbers) cannot start a keyword: their first byte says so
        // without hashing them.
        let shape = words.map { (w) -> String? in
            if let b = w.utf8.first, !memo.keywordStarts[Int(b)] { return nil }
            return memo.keywordPrefixes.contains(w) ? w : nil
        }
        if let known = memo.outcomes[shape], let values = Self.recheck(known.checks, words) {
            switch known.result {
            case .success(let (i, bindings))?: return .success((commands[i], bindings.reading(words, values: values)))
            case .failure(let f)?: return .failure(f)
            case nil: return parse(words)
            }
        }
        let (result, checks) = matches(words)
        if memo.outcomes.count > 4096 { memo.outcomes.removeAll() }
        if let checks { memo.outcomes[shape] = ParseMemo.Outcome(checks: checks, result: result) }
        switch result {
        case .success(let (i, bindings))?: return .success((commands[i], bindings))
        case .failure(let f)?: return .failure(f)
        case nil: return parse(words)
        }
    }

    /// The values of a remembered shape's value words when each check answers as it did; nil when one
    /// answers otherwise (the command is then walked afresh).
    private static func recheck(_ checks: [ValueCheck], _ words: [String]) -> ValuesAt? {
        var values = ValuesAt(capacity: checks.count)
        for check in checks {
            let at = ValueAt(position: check.position, kind: check.kind)
            let known = values[at]
            let value = known ?? check.kind.value(of: words[check.position])
            guard (value != nil) == check.accepted else { return nil }
            if known == nil, let value { values.append(value, at: at) }
        }
        return values
    }

    /// Every keyword of the grammar and every prefix of one: the words that can abbreviate a keyword.
    /// Built by the first parse with a memo, not at start-up (a one-shot command does not need it).
    private func keywordPrefixes() -> Set<String> {
        var prefixes = Set<String>()
        func collect(_ s: Syntax) {
            func add(_ w: String) { for n in 1...max(1, w.count) { prefixes.insert(String(w.prefix(n))) } }
            switch s {
            case .word(let w, _): add(w)
            case .oneOf(_, let words): words.forEach { add($0.word) }
            case .value, .rest: break
            case .sequence(let items), .choice(let items), .anyOrder(let items): items.forEach(collect)
            case .optional(let inner), .repeated(let inner): collect(inner)
            }
        }
        commands.forEach { collect($0.syntax) }
        return prefixes
    }

    /// The one command the words mean, with its bindings.
    public func parse(_ words: [String]) -> Result<(CommandSpec<Handler>, Bindings), ParseFailure> {
        guard !words.isEmpty else { return .failure(ParseFailure(message: "empty command", wordIndex: 0)) }
        // First look only for matches; a line that has none is walked again, recording why each
        // command refused it, for the message.
        switch matches(words).result {
        case .success(let (i, bindings))?: return .success((commands[i], bindings))
        case .failure(let f)?: return .failure(f)
        case nil: break
        }
        // A command whose keyword the first word cannot abbreviate can only refuse that word, which
        // matters to the message only when every command refuses it: then walk them all.
        let candidates = candidates(words[0])
        guard !candidates.isEmpty else { return explain(words, through: Array(commands.indices)) }
        let result = explain(words, through: candidates)
        if candidates.count < commands.count, case .failure(let f) = result, f.wordIndex == 0 {
            return explain(words, through: Array(commands.indices))
        }
        return result
    }

    /// The commands a first word can start: those whose keyword it abbreviates, and those that start
    /// with something else.
    private func candidates(_ first: String) -> [Int] {
        commands.indices.filter { i in
            guard let k = leadingKeywords[i] else { return true }
            return Walker.abbreviates(first, k)
        }
    }

    /// A walk that only looks for matches: the command's index and bindings, an ambiguity, or nil when
    /// nothing matched; with the value checks it made (ParseMemo), or nil when an abbreviation was judged
    /// (that depends on every command's words at its place, which a shape does not record).
    private func matches(_ words: [String]) -> (result: Result<(Int, Bindings), ParseFailure>?, checks: [ValueCheck]?) {
        var checks: [ValueCheck] = []
        var complete: [(Int, Walker.State)] = []
        let abbreviations = abbreviations(words)
        for i in candidates(words[0]) {
            let walker = Walker(words: words, recording: false, abbreviations: abbreviations)
            for end in walker.walk(commands[i].syntax, .init(position: 0)) where end.position == words.count {
                complete.append((i, end))
            }
            checks += walker.checks
        }
        return (best(complete).map { r in r.map { ($0.0, $0.1.bindings) } }, abbreviations.consulted ? nil : checks)
    }

    /// The judge of abbreviations for one line of words.
    private func abbreviations(_ words: [String]) -> Abbreviations {
        Abbreviations(words: words, grammars: commands.map(\.syntax), first: firstWords)
    }

    /// The best complete match: exact keywords beat abbreviations; a tie between different commands is
    /// ambiguous. nil when there is none.
    private func best(_ complete: [(Int, Walker.State)]) -> Result<(Int, Walker.State), ParseFailure>? {
        guard !complete.isEmpty else { return nil }
        let best = complete.max { ($0.1.exactWords, -$0.1.abbreviated) < ($1.1.exactWords, -$1.1.abbreviated) }!
        let rivals = complete.filter { $0.1.exactWords == best.1.exactWords && $0.1.abbreviated == best.1.abbreviated }
        if unique(rivals.map(\.0)).count > 1 {
            let names = unique(rivals.map { commands[$0.0].usage })
            return .failure(ParseFailure(message: "ambiguous command: it could mean\n    \(names.joined(separator: "\n    "))\nType more of the keywords.", wordIndex: 0))
        }
        return .success(best)
    }

    /// The recording walk, for a line that did not parse: why, and at which word.
    private func explain(_ words: [String], through candidates: [Int]) -> Result<(CommandSpec<Handler>, Bindings), ParseFailure> {
        var complete: [(Int, Walker.State)] = []
        var furthest = -1
        var refusals: [(Leaf, String?)] = []
        var frontier: [Leaf] = []
        let abbreviations = abbreviations(words)
        for i in candidates {
            let spec = commands[i]
            let walker = Walker(words: words, abbreviations: abbreviations)
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
        if let found = best(complete) { return found.map { (commands[$0.0], $0.1.bindings) } }
        if !frontier.isEmpty || furthest < 0 {
            let next = unique(frontier).map(\.display)
            return .failure(ParseFailure(message: "incomplete command: expected \(list(next))", wordIndex: words.count))
        }
        let word = words[furthest]
        let shown = Shown.word(word)
        let keywords = unique(refusals.compactMap { r -> String? in if case .word(let w, _) = r.0 { return w } else { return nil } })
        let matching = keywords.filter { $0.hasPrefix(word) }
        if matching.count > 1 {
            return .failure(ParseFailure(message: Abbreviations.ambiguous(word, matching), wordIndex: furthest))
        }
        if let problem = refusals.compactMap(\.1).first {
            return .failure(ParseFailure(message: problem, wordIndex: furthest))
        }
        let expected = unique(refusals.map(\.0.display))
        if expected == ["<end of command>"] {
            return .failure(ParseFailure(message: "unexpected '\(shown)': the command ends before it (quote a value that has spaces)", wordIndex: furthest))
        }
        let what = furthest == 0 ? "unknown command '\(shown)'" : "unexpected '\(shown)'"
        // Only keywords could stand here: name the near ones rather than all of them.
        if refusals.allSatisfy({ if case .word = $0.0 { true } else { false } }) {
            let near = Wording.nearMisses(word, among: keywords)
            if !near.isEmpty {
                return .failure(ParseFailure(message: "\(what): did you mean \(Wording.list(near))?", wordIndex: furthest))
            }
            if furthest == 0 {
                return .failure(ParseFailure(message: "\(what) (`help` lists the commands, `?` what may come next)", wordIndex: furthest))
            }
        }
        return .failure(ParseFailure(message: "\(what): expected \(list(expected))", wordIndex: furthest))
    }

    /// What may follow the given complete words, with one line of help each (the `?` key): each word
    /// once, with the help of the first command that offers it.
    public func next(after words: [String]) -> [Leaf] {
        var leaves: [Leaf] = []
        var endsHere = false
        let abbreviations = abbreviations(words)
        for spec in commands {
            let walker = Walker(words: words, abbreviations: abbreviations)
            let ends = walker.walk(spec.syntax, .init(position: 0))
            if ends.contains(where: { $0.position == words.count }) && !words.isEmpty { endsHere = true }
            leaves += walker.frontier
        }
        var seen = Set<String>()
        var result = leaves.filter { seen.insert($0.display).inserted }
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

    private func list(_ items: [String]) -> String { Wording.list(items) }
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
