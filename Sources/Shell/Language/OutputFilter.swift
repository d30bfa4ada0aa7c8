import LVSModel

/// What one stage after `|` does to the output of the command before it.
public enum FilterStage: Sendable {
    /// Keep the lines that match.
    case include
    /// Drop the lines that match.
    case exclude
    /// Everything from the first line that matches.
    case begin
    /// The number of lines, instead of them.
    case count
    /// The output as is, never through the console's pager.
    case noMore
}

/// The stages after a command's `|`, in order: `show rules | include tcp | count`.
public struct OutputFilter {
    /// The grammar of one stage: parsed, completed and helped like the commands (vtysh's `| include`).
    public static let table = CommandTable<FilterStage>([
        CommandSpec(.sequence([.word("include", help: "keep the lines that match"), regex]),
                    summary: "keep the output lines that match REGEX", examples: ["include tcp"], handler: .include),
        CommandSpec(.sequence([.word("exclude", help: "drop the lines that match"), regex]),
                    summary: "drop the output lines that match REGEX", examples: ["exclude ^#"], handler: .exclude),
        CommandSpec(.sequence([.word("begin", help: "start at the first line that matches"), regex]),
                    summary: "the output from the first line that matches REGEX", examples: ["begin ^group"], handler: .begin),
        CommandSpec(.word("count", help: "count the lines"), summary: "the number of output lines", handler: .count),
        CommandSpec(.word("no-more", help: "print without the console's pager"),
                    summary: "print the output whole, without the console's pager", handler: .noMore),
    ])

    static let regex = Syntax.value("regex", .regex, help: "a regular expression (Swift Regex syntax)")

    /// One line per stage, for `help`.
    public static var helpText: String {
        "Output filters, after show, ipvsadm listings and help (several may follow each other):\n"
            + table.commands.map { "  | \($0.usage)\n      \($0.summary)\n" }.joined()
    }

    var stages: [(FilterStage, Regex<AnyRegexOutput>?)] = []

    /// Whether a stage said `no-more`.
    public var refusesPager: Bool { stages.contains { if case .noMore = $0.0 { true } else { false } } }

    /// The text after every stage. Lines are what a newline ends; nothing left prints nothing (not an
    /// empty line).
    public func apply(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for (stage, regex) in stages {
            switch stage {
            case .include: lines = lines.filter { $0.contains(regex!) }
            case .exclude: lines = lines.filter { !$0.contains(regex!) }
            case .begin: lines = Array(lines.drop { !$0.contains(regex!) })
            case .count: lines = ["\(lines.count)"]
            case .noMore: break
            }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The command's words before the first `|`, and the filter the stages after it make (nil without
    /// one). `located` words an error at a word index of the whole command.
    static func split(_ input: CommandInput, located: (String, Int) -> String) throws(LVSError) -> ([String], OutputFilter?) {
        let words = input.words
        guard let first = words.firstIndex(of: "|") else { return (words, nil) }
        var filter = OutputFilter()
        var start = first + 1
        while true {
            let end = words[start...].firstIndex(of: "|") ?? words.count
            let stage = Array(words[start..<end])
            guard !stage.isEmpty else {
                throw .badInput(located("after '|' give \(expected)", start - 1))
            }
            switch table.parse(stage) {
            case .failure(let f) where f.wordIndex == 0 && !names.contains(where: { Walker.abbreviates(stage[0], $0) }):
                let near = Wording.nearMisses(stage[0], among: names)
                let hint = near.isEmpty ? "give \(expected)" : "did you mean \(Wording.list(near))?"
                throw .badInput(located("after '|': '\(Shown.word(stage[0]))' is not a filter: \(hint)", start))
            case .failure(let f):
                throw .badInput(located("after '|': \(f.message)", start + f.wordIndex))
            case .success(let (spec, bindings)):
                var regex: Regex<AnyRegexOutput>? = nil
                if let pattern = bindings.first("regex") {
                    do {
                        regex = try Regex(pattern)
                    } catch {
                        throw .badInput(located("'\(Shown.word(pattern))' is not a regular expression: \(error)", start + 1))
                    }
                }
                filter.stages.append((spec.handler, regex))
            }
            guard end < words.count else { break }
            start = end + 1
        }
        return (Array(words[..<first]), filter)
    }

    /// The filters' names: include, exclude, begin, count, no-more.
    static var names: [String] { table.commands.map(\.name) }

    /// "include REGEX, exclude REGEX, begin REGEX, count or no-more".
    static var expected: String { Wording.list(table.commands.map(\.usage)) }
}
