#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// The values a matched command bound: names to the words they took, in order.
public struct Bindings: Sendable, Hashable {
    /// One bound word, or a keyword given (flags such as `one-packet`, choices such as `nat`).
    private struct Entry: Sendable, Hashable {
        let name: String
        var word: String
        /// The typed value of a value word, and the kind that made it (nil for keywords and `rest` words).
        var value: Value?
        var kind: ValueKind? = nil
        let isKeyword: Bool
        /// The word's position in the command when it came from there (values); -1 for words of the
        /// grammar itself. A remembered parse takes the new command's words from these positions.
        var position = -1

        /// Whether the entry is bound to `name`. Handlers ask for a score of names a command line, and
        /// most entries differ: the lengths settle that inline, where String's == calls into the
        /// runtime for every pair of different words.
        @inline(__always) func isNamed(_ other: String) -> Bool {
            name.utf8.count == other.utf8.count && name == other
        }
    }

    // A flat list, not a dictionary: the walker copies bindings at every branch of the grammar, and a
    // command binds a handful of names, so a scan is cheaper than hashing (apply files run to 50,000 lines).
    private var entries: [Entry] = []

    public init() {}

    mutating func bind(_ name: String, _ word: String, value: Value? = nil, kind: ValueKind? = nil, at position: Int = -1) {
        entries.append(Entry(name: name, word: word, value: value, kind: kind, isKeyword: false, position: position))
    }

    /// The same bindings for a command of the same shape: each word taken from `words` where its
    /// word stood, with the value made of it by the memo's checks (see ParseMemo).
    func reading(_ words: [String], values: ValuesAt) -> Bindings {
        // Built afresh: a copy of the remembered entries, then changed, would retain every old word
        // and value only to release most of them.
        var b = Bindings()
        b.entries.reserveCapacity(entries.count)
        for e in entries {
            guard e.position >= 0 else { b.entries.append(e); continue }
            b.entries.append(Entry(name: e.name, word: words[e.position],
                                   value: e.kind.map { values[ValueAt(position: e.position, kind: $0)] } ?? e.value,
                                   kind: e.kind, isKeyword: e.isKeyword, position: e.position))
        }
        return b
    }
    mutating func given(_ keyword: String) { entries.append(Entry(name: keyword, word: "", value: nil, isKeyword: true)) }
    /// Binds `name` to no words, so that `has(name)` holds (a `rest` that took nothing).
    mutating func bindNothing(_ name: String) {
        if !entries.contains(where: { !$0.isKeyword && $0.isNamed(name) }) { entries.append(Entry(name: name, word: "", value: nil, isKeyword: true)) }
    }

    public func has(_ name: String) -> Bool { entries.contains { $0.isNamed(name) } }
    public func first(_ name: String) -> String? { entries.first { !$0.isKeyword && $0.isNamed(name) }?.word }
    public func all(_ name: String) -> [String] { entries.compactMap { !$0.isKeyword && $0.isNamed(name) ? $0.word : nil } }

    /// The typed value bound to `name` (the first), as the grammar's value kind made it.
    public func value(_ name: String) -> Value? { entries.first { !$0.isKeyword && $0.isNamed(name) }?.value }
    /// Every typed value bound to `name`, in order.
    public func values(_ name: String) -> [Value] { entries.compactMap { !$0.isKeyword && $0.isNamed(name) ? $0.value : nil } }

    public func address(_ name: String) -> IPAddress? { if case .address(let a)? = value(name) { a } else { nil } }
    /// An address list's addresses; nil for `any` or when nothing is bound.
    public func addresses(_ name: String) -> [IPAddress]? { if case .addresses(let a)? = value(name) { a } else { nil } }
    public func endpoint(_ name: String) -> (address: IPAddress, port: UInt16?)? {
        if case .endpoint(let a, let p)? = value(name) { (a, p) } else { nil }
    }
    public func number(_ name: String) -> UInt64? { if case .number(let n)? = value(name) { n } else { nil } }
    public func mark(_ name: String) -> UInt32? { if case .mark(let m)? = value(name) { m } else { nil } }
    public func bytes(_ name: String) -> [UInt8]? { if case .bytes(let b)? = value(name) { b } else { nil } }
    public func statuses(_ name: String) -> [ClosedRange<UInt16>]? { if case .statuses(let s)? = value(name) { s } else { nil } }
    /// Every port list bound to `name`, in order.
    public func portLists(_ name: String) -> [[ClosedRange<UInt16>]] {
        values(name).compactMap { if case .ports(let p) = $0 { p } else { nil } }
    }
    /// The keywords the command was given.
    public var keywords: Set<String> { Set(entries.lazy.filter(\.isKeyword).map(\.name)) }

    public static func == (a: Bindings, b: Bindings) -> Bool {
        a.keywords == b.keywords && Set(a.entries.map(\.name)).allSatisfy { a.all($0) == b.all($0) && a.values($0) == b.values($0) }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(keywords) }
}

/// One grammar leaf: what can stand at a word position.
public enum Leaf: Hashable, Sendable {
    case word(String, help: String)
    case value(String, ValueKind, help: String)
    case rest(String, help: String)

    /// The word or metavariable shown to the user.
    public var display: String {
        switch self {
        case .word(let w, _): w
        case .value(_, let k, _): k.metavariable
        case .rest(let n, _): n.uppercased() + "..."
        }
    }

    public var help: String {
        switch self {
        case .word(_, let h), .value(_, _, let h), .rest(_, let h): h
        }
    }
}

/// Walks a grammar over words: the ways it can match, what could come next at the end, and how far a
/// failed attempt got (for error messages that point at the word). Each way a grammar can match goes to
/// a continuation rather than into arrays: apply files parse tens of thousands of lines, and the
/// arrays of partial matches were most of the cost.
final class Walker {
    struct State {
        var position: Int
        var bindings = Bindings()
        var exactWords = 0
        var abbreviated = 0
    }

    let words: [String]
    /// Whether to record the frontier and the refusals. A walk that only looks for matches leaves them
    /// out (most lines of a file parse, and only a line that does not needs them for its message).
    let recording: Bool
    /// Leaves that could take the word after the last one.
    var frontier: [Leaf] = []
    /// The furthest word at which a leaf refused, with the refusals there.
    var furthest = -1
    var refusals: [(Leaf, String?)] = []
    /// The value checks a walk that is not recording made, in order: with the keywords, they decide
    /// everything it found (see ParseMemo).
    var checks: [ValueCheck] = []

    /// Judges abbreviations by the whole table (vtysh's rule); nil: any prefix of a keyword matches it.
    let abbreviations: Abbreviations?

    init(words: [String], recording: Bool = true, abbreviations: Abbreviations? = nil) {
        self.words = words
        self.recording = recording
        self.abbreviations = abbreviations
    }

    /// Why the word at `position`, a prefix of `keyword`, does not stand for it here; nil when it does.
    private func abbreviationProblem(_ position: Int, _ keyword: String) -> String? {
        abbreviations?.problem(at: position, abbreviating: keyword)
    }

    /// Whether a word given for a keyword matches it: the keyword itself or a prefix of it
    /// ("sh" for "show"). Keywords are ASCII, so bytes decide, which costs far less than Characters.
    static func abbreviates(_ token: String, _ keyword: String) -> Bool {
        let n = token.utf8.count
        guard n > 0, n <= keyword.utf8.count else { return false }
        var token = token, keyword = keyword
        return token.withUTF8 { t in keyword.withUTF8 { k in memcmp(t.baseAddress!, k.baseAddress!, n) == 0 } }
    }

    /// Every way `syntax` can match from `state`, in order.
    func walk(_ syntax: Syntax, _ state: State) -> [State] {
        var out: [State] = []
        walk(syntax, state) { out.append($0) }
        return out
    }

    func walk(_ syntax: Syntax, _ state: State, _ next: (State) -> Void) {
        switch syntax {
        case .word(let w, let help):
            guard state.position < words.count else {
                if recording { frontier.append(.word(w, help: help)) }
                return
            }
            let token = words[state.position]
            let exact = token == w
            guard exact || Walker.abbreviates(token, w) else {
                if recording { refuse(state.position, .word(w, help: help), nil) }
                return
            }
            if !exact, let problem = abbreviationProblem(state.position, w) {
                if recording { refuse(state.position, .word(w, help: help), problem) }
                return
            }
            var s = state
            s.position += 1
            s.bindings.given(w)
            if exact { s.exactWords += 1 } else { s.abbreviated += 1 }
            next(s)
        case .oneOf(let name, let choices):
            guard state.position < words.count else {
                if recording { frontier += choices.map { .word($0.word, help: $0.help) } }
                return
            }
            let token = words[state.position]
            for w in choices {
                let exact = token == w.word
                guard exact || Walker.abbreviates(token, w.word) else {
                    if recording { refuse(state.position, .word(w.word, help: w.help), nil) }
                    continue
                }
                if !exact, let problem = abbreviationProblem(state.position, w.word) {
                    if recording { refuse(state.position, .word(w.word, help: w.help), problem) }
                    continue
                }
                var s = state
                s.position += 1
                s.bindings.given(w.word)
                s.bindings.bind(name, w.word)
                if exact { s.exactWords += 1 } else { s.abbreviated += 1 }
                next(s)
            }
        case .value(let name, let kind, let help):
            value(name, kind, help, state, next)
        case .rest(let name, let help):
            if recording { frontier.append(.rest(name, help: help)) }
            var s = state
            for i in state.position..<words.count { s.bindings.bind(name, words[i], at: i) }
            if state.position == words.count { s.bindings.bindNothing(name) }
            s.position = words.count
            next(s)
        case .sequence(let items):
            sequence(items[...], state, next)
        case .optional(let inner):
            next(state)
            walk(inner, state, next)
        case .choice(let alternatives):
            for alternative in alternatives { walk(alternative, state, next) }
        case .repeated(let inner):
            // Breadth first, one more repetition per round, as the grammar reads.
            var current = walk(inner, state).filter { $0.position > state.position }
            while !current.isEmpty {
                current.forEach(next)
                current = current.flatMap { s in walk(inner, s).filter { $0.position > s.position } }
            }
        case .anyOrder(let parts):
            anyOrder(parts, state, used: 0, next)
        }
    }

    /// A value word: checked by its kind (recording why a word is refused, when asked to).
    private func value(_ name: String, _ kind: ValueKind, _ help: String, _ state: State, _ next: (State) -> Void) {
        guard state.position < words.count else {
            if recording { frontier.append(.value(name, kind, help: help)) }
            return
        }
        let token = words[state.position]
        if recording {
            if let problem = kind.problem(with: token) {
                refuse(state.position, .value(name, kind, help: help), problem)
                return
            }
        }
        // Converted once: the check and the binding share the value (a recording walk only explains).
        let value = kind.value(of: token)
        if !recording {
            checks.append(ValueCheck(position: state.position, kind: kind, accepted: value != nil))
            guard value != nil else { return }
        }
        var s = state
        s.position += 1
        s.bindings.bind(name, token, value: value, kind: kind, at: state.position)
        next(s)
    }

    private func sequence(_ items: ArraySlice<Syntax>, _ state: State, _ next: (State) -> Void) {
        guard let first = items.first else { return next(state) }
        walk(first, state) { self.sequence(items.dropFirst(), $0, next) }
    }

    /// `used`: a bit for each part already matched (grammars have far fewer than 64 parts).
    private func anyOrder(_ parts: [Syntax], _ state: State, used: UInt64, _ next: (State) -> Void) {
        next(state)
        for (i, part) in parts.enumerated() where used & (1 << UInt64(i)) == 0 {
            walk(part, state) { s in
                if s.position > state.position { self.anyOrder(parts, s, used: used | (1 << UInt64(i)), next) }
            }
        }
    }

    private func refuse(_ position: Int, _ leaf: Leaf, _ problem: String?) {
        if position > furthest {
            furthest = position
            refusals = []
        }
        if position == furthest { refusals.append((leaf, problem)) }
    }
}

/// A value word's place and kind: where a remembered parse finds a value again.
struct ValueAt: Hashable, Sendable {
    let position: Int
    let kind: ValueKind
}

/// The values a remembered parse made of a command's value words. A command has a handful, and a
/// dictionary made and hashed for each of a 20,000-line file's commands cost more than the scan.
struct ValuesAt {
    private var found: [(at: ValueAt, value: Value)] = []

    init(capacity: Int) { found.reserveCapacity(capacity) }

    subscript(_ at: ValueAt) -> Value? { found.first { $0.at == at }?.value }

    mutating func append(_ value: Value, at: ValueAt) { found.append((at, value)) }
}

/// One check of a word against a value kind, and its answer.
struct ValueCheck: Sendable {
    let position: Int
    let kind: ValueKind
    let accepted: Bool
}

/// Remembers how commands of one shape parsed, for callers that parse many (a 50,000-line apply file
/// has a handful of shapes). A shape is the command's words with every word that could not be a
/// keyword blanked out; a walk that is not recording decides only by those keywords and by the value
/// checks it makes, so when a new command of the same shape passes the same checks the same way,
/// the walk would go the same way: its result is reused with the new command's values.
/// A memo serves one command table.
public struct ParseMemo: Sendable {
    struct Outcome: Sendable {
        let checks: [ValueCheck]
        /// The command's index and bindings, or why the words are ambiguous; nil when nothing matched.
        let result: Result<(Int, Bindings), ParseFailure>?
    }

    var outcomes: [[String?]: Outcome] = [:]
    /// The table's keywords and their prefixes: the words a shape keeps.
    var keywordPrefixes: Set<String> = []
    /// The first bytes of those words.
    var keywordStarts = [Bool](repeating: false, count: 256)

    public init() {}
}

/// Keeps the order of first appearance while dropping repeats.
func unique<T: Hashable>(_ items: [T]) -> [T] {
    var seen = Set<T>()
    return items.filter { seen.insert($0).inserted }
}
