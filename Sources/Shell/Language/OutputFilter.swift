import LVSModel

/// `| include REGEX` after a command: keep the output lines that match.
struct OutputFilter {
    let regex: Regex<AnyRegexOutput>

    func apply(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.contains(regex) }
            .joined(separator: "\n") + (text.hasSuffix("\n") ? "\n" : "")
    }

    /// The command's words before `|`, and the filter after it. `located` words an error at a word index.
    static func split(_ input: CommandInput, located: (String, Int) -> String) throws(LVSError) -> ([String], OutputFilter?) {
        let words = input.words
        guard let bar = words.firstIndex(of: "|") else { return (words, nil) }
        let tail = Array(words[(bar + 1)...])
        guard tail.count == 2, "include".hasPrefix(tail[0]), !tail[0].isEmpty else {
            throw .badInput(located("after '|' give `include REGEX`", bar))
        }
        do {
            return (Array(words[..<bar]), OutputFilter(regex: try Regex(tail[1])))
        } catch {
            throw .badInput(located("'\(tail[1])' is not a regular expression: \(error)", bar + 2))
        }
    }
}
