import LVSModel

/// The values a matched command bound: names to the words they took, in order.
public struct Bindings: Sendable, Hashable {
    public internal(set) var values: [String: [String]] = [:]
    /// The keywords the command was given (flags such as `one-packet`, choices such as `nat`).
    public internal(set) var keywords: Set<String> = []

    public init() {}

    mutating func bind(_ name: String, _ word: String) { values[name, default: []].append(word) }

    public func has(_ name: String) -> Bool { keywords.contains(name) || values[name] != nil }
    public func first(_ name: String) -> String? { values[name]?.first }
    public func all(_ name: String) -> [String] { values[name] ?? [] }
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
/// failed attempt got (for error messages that point at the word).
struct Walker {
    struct State {
        var position: Int
        var bindings = Bindings()
        var exactWords = 0
        var abbreviated = 0
    }

    let words: [String]
    /// Leaves that could take the word after the last one.
    var frontier: [Leaf] = []
    /// The furthest word at which a leaf refused, with the refusals there.
    var furthest = -1
    var refusals: [(Leaf, String?)] = []

    init(words: [String]) { self.words = words }

    mutating func walk(_ syntax: Syntax, _ state: State) -> [State] {
        switch syntax {
        case .word(let w, let help):
            let leaf = Leaf.word(w, help: help)
            guard state.position < words.count else { frontier.append(leaf); return [] }
            let token = words[state.position]
            var next = state
            next.position += 1
            next.bindings.keywords.insert(w)
            if token == w {
                next.exactWords += 1
                return [next]
            }
            if !token.isEmpty && w.hasPrefix(token) {
                next.abbreviated += 1
                return [next]
            }
            refuse(state.position, leaf, nil)
            return []
        case .oneOf(let name, let words):
            return words.flatMap { w in
                walk(.word(w.word, help: w.help), state).map { next in
                    var bound = next
                    bound.bindings.bind(name, w.word)
                    return bound
                }
            }
        case .value(let name, let kind, let help):
            let leaf = Leaf.value(name, kind, help: help)
            guard state.position < words.count else { frontier.append(leaf); return [] }
            let token = words[state.position]
            if let problem = kind.problem(with: token) {
                refuse(state.position, leaf, problem)
                return []
            }
            var next = state
            next.position += 1
            next.bindings.bind(name, token)
            return [next]
        case .rest(let name, let help):
            frontier.append(.rest(name, help: help))
            var next = state
            for w in words[state.position...] { next.bindings.bind(name, w) }
            if state.position == words.count { next.bindings.values[name] = next.bindings.values[name] ?? [] }
            next.position = words.count
            return [next]
        case .sequence(let items):
            var states = [state]
            for item in items {
                states = states.flatMap { walk(item, $0) }
                if states.isEmpty { break }
            }
            return states
        case .optional(let inner):
            return [state] + walk(inner, state)
        case .choice(let alternatives):
            return alternatives.flatMap { walk($0, state) }
        case .repeated(let inner):
            var all: [State] = []
            var current = walk(inner, state).filter { $0.position > state.position }
            while !current.isEmpty {
                all += current
                current = current.flatMap { s in walk(inner, s).filter { $0.position > s.position } }
            }
            return all
        case .anyOrder(let parts):
            return anyOrder(parts, state, used: [])
        }
    }

    private mutating func anyOrder(_ parts: [Syntax], _ state: State, used: Set<Int>) -> [State] {
        var results = [state]
        for (i, part) in parts.enumerated() where !used.contains(i) {
            for next in walk(part, state) where next.position > state.position {
                results += anyOrder(parts, next, used: used.union([i]))
            }
        }
        return results
    }

    private mutating func refuse(_ position: Int, _ leaf: Leaf, _ problem: String?) {
        if position > furthest {
            furthest = position
            refusals = []
        }
        if position == furthest { refusals.append((leaf, problem)) }
    }
}

/// Keeps the order of first appearance while dropping repeats.
func unique<T: Hashable>(_ items: [T]) -> [T] {
    var seen = Set<T>()
    return items.filter { seen.insert($0).inserted }
}
