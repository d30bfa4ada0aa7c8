import LVSModel

/// vtysh's rule for abbreviated keywords: a word abbreviates a keyword only when no other keyword that
/// any command allows at that position starts with it, and never when it is itself such a keyword
/// (`real` is `real`, not short for `realserver`). A walker asks only for words that are not whole
/// keywords, so files written out in full never pay for it.
final class Abbreviations {
    let words: [String]
    /// The grammars of every command of the table: "every word possible at a position" spans them all.
    private let grammars: [Syntax]
    /// The keywords possible at each position, as computed (each needs a walk of the words before it).
    private var possible: [Int: [String]] = [:]
    /// Whether an abbreviation after the first word was judged: that depends on what the words before
    /// it are (values included), which a shape does not record (see ParseMemo). The first word's
    /// judgement depends on that word alone, which the shape keeps.
    private(set) var consulted = false

    /// `first`: the keywords that may start a command (the same for every line of a table).
    init(words: [String], grammars: [Syntax], first: [String]) {
        self.words = words
        self.grammars = grammars
        possible[0] = first
    }

    /// The keywords that may start a command of these grammars.
    static func first(of grammars: [Syntax]) -> [String] {
        Abbreviations(words: [], grammars: grammars, first: []).walk(before: 0)
    }

    /// Why the word at `position`, a prefix of `keyword`, does not stand for it here; nil when it does.
    func problem(at position: Int, abbreviating keyword: String) -> String? {
        if position > 0 { consulted = true }
        let token = words[position]
        let there = keywords(at: position)
        if there.contains(token) { return "'\(Shown.word(token))' is the keyword \(token) here, not short for \(keyword)" }
        let matching = there.filter { Walker.abbreviates(token, $0) }
        return matching.count > 1 ? Self.ambiguous(token, matching) : nil
    }

    /// "ambiguous: 's' could be save, service, set or show".
    static func ambiguous(_ token: String, _ keywords: [String]) -> String {
        "ambiguous: '\(Shown.word(token))' could be \(Wording.list(keywords.sorted())); type more of it"
    }

    /// Every keyword some command allows at `position`, after the words before it (read by these rules).
    func keywords(at position: Int) -> [String] {
        if let known = possible[position] { return known }
        let result = walk(before: position)
        possible[position] = result
        return result
    }

    /// The keywords in the frontier of every grammar after the words before `position`.
    private func walk(before position: Int) -> [String] {
        let before = Array(words[..<position])
        var found: [String] = []
        for grammar in grammars {
            let walker = Walker(words: before, abbreviations: position > 0 ? self : nil)
            walker.walk(grammar, .init(position: 0)) { _ in }
            for case .word(let w, _) in walker.frontier { found.append(w) }
        }
        return unique(found)
    }
}

/// Small helpers for messages about words.
enum Wording {
    /// "a", "a or b", "a, b or c".
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: "nothing more"
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " or " + items.last!
        }
    }

    /// The candidates closest to a mistyped word: within two edits (one for short words, transposed
    /// letters counting as one), or a candidate the word starts with ("shows" for show). Best first.
    static func nearMisses(_ word: String, among candidates: [String]) -> [String] {
        let w = Array(word.lowercased())
        guard !w.isEmpty else { return [] }
        var scored: [(Int, String)] = []
        for c in unique(candidates) where c != word {
            let distance = editDistance(w, Array(c))
            // Two edits turn many short words into others (icmp → tcp): short words get one.
            let limit = w.count <= 4 ? 1 : 2
            if distance <= limit {
                scored.append((distance, c))
            } else if c.count >= 3 && word.hasPrefix(c) {
                scored.append((limit + 1, c))
            }
        }
        guard let best = scored.map(\.0).min() else { return [] }
        return scored.filter { $0.0 == best }.map(\.1)
    }

    /// Edits (insert, delete, replace, swap two neighbours) from one word to the other.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
