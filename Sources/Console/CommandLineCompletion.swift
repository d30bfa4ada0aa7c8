import LVSModel
import Shell

/// What the shell's TAB offers on lvsh's own command line (`lvsh __complete WORD... PARTIAL`, which the
/// generated bash and zsh scripts call): the outer options and their values, then the console's own
/// completion of the language (ConsoleLanguage) with the same live values, or the grammar of daemon,
/// import and adopt.
public struct CommandLineCompletion {
    public let language: ConsoleLanguage

    public init(language: ConsoleLanguage) { self.language = language }

    /// The candidates for the last argument (the partial word, possibly empty) after the others, and
    /// whether a file name may stand there too.
    public func complete(_ arguments: [String]) -> (candidates: [String], files: Bool) {
        let partial = arguments.last ?? ""
        let before = Array(arguments.dropLast())
        var i = 0
        var batch = false
        // The options before the command's words, each with its value.
        while i < before.count, before[i].hasPrefix("-"), before[i] != "-" {
            guard let option = Self.option(before[i]) else { i += 1; continue }
            if ["-c", "-f"].contains(before[i]) { batch = true }
            if option.value != nil {
                if i + 1 == before.count { return Self.values(of: option, partial) }
                i += 1
            }
            i += 1
        }
        if i == before.count {
            if partial.hasPrefix("-") || batch {
                return (Self.optionNames(OuterInterface.options, partial), false)
            }
            var first = language.completions(for: LineWords(words: [], partial: partial))
            first += OuterInterface.commands.complete(partial, after: [], live: { _ in [] })
            return (Self.sorted(first.filter { $0 != "|" }), false)
        }
        let words = Array(before[i...])
        if words[0] == "ipvsadm" { return ([], false) }
        if OuterInterface.commands.commands.contains(where: { $0.name.split(separator: " ").first.map(String.init) == words[0] }) {
            let table = OuterInterface.commands
            return (table.complete(partial, after: words, live: { _ in [] }), Self.fileMayFollow(table.next(after: words)))
        }
        // Options may follow the words (`apply FILE --check`): they are not words of the grammar.
        var grammarWords: [String] = []
        var j = 0
        while j < words.count {
            if let option = Self.option(words[j]), option.followsWords {
                if option.value != nil {
                    if j + 1 == words.count { return Self.values(of: option, partial) }
                    j += 1
                }
            } else {
                grammarWords.append(words[j])
            }
            j += 1
        }
        if partial.hasPrefix("-") {
            return (Self.optionNames(OuterInterface.options.filter(\.followsWords), partial), false)
        }
        let line = LineWords(words: grammarWords, partial: partial)
        let candidates = language.completions(for: line).filter { $0 != "|" }
        return (candidates, Self.fileMayFollow(language.table.next(after: grammarWords)))
    }

    /// The option spelled `word`.
    static func option(_ word: String) -> OuterOption? {
        OuterInterface.options.first { $0.names.contains(word) }
    }

    static func values(of option: OuterOption, _ partial: String) -> (candidates: [String], files: Bool) {
        (option.choices.filter { $0.hasPrefix(partial) }, option.takesFile)
    }

    static func optionNames(_ options: [OuterOption], _ partial: String) -> [String] {
        sorted(options.flatMap(\.names).filter { $0.hasPrefix(partial) })
    }

    static func fileMayFollow(_ leaves: [Leaf]) -> Bool {
        leaves.contains { leaf in
            if case .value(_, .file, _) = leaf { return true }
            return false
        }
    }

    private static func sorted(_ words: [String]) -> [String] {
        var seen = Set<String>()
        return words.filter { seen.insert($0).inserted }.sorted()
    }

    /// The lines `lvsh __complete` prints: one candidate a line, then `:files` when file names fit too
    /// (the scripts then add the shell's own file completion).
    public func output(_ arguments: [String]) -> String {
        let (candidates, files) = complete(arguments)
        return candidates.map { $0 + "\n" }.joined() + (files ? ":files\n" : "")
    }
}
