import LVSModel

/// Splits an argument vector the way popt 1.19 does for ipvsadm, one option at a time.
///
/// popt rules that matter here: long options match exactly (no abbreviations) and
/// may carry `=value`; short options cluster (`-Ln`) and take the rest of their word
/// as a value (`-t10.0.0.1:80`, `-p=60`) or else the next word, even one starting
/// with '-'; `-p` takes the next word only if it does not start with '-'; words that
/// are not options (and everything after `--`) are collected as leftovers.
struct PoptScanner {
    /// One option as written, with its value if it takes one.
    struct Item: Hashable, Sendable {
        var spec: IPVSAdmOptionTable.Spec
        var value: String?
        /// The whole word it came from, as ipvsadm names it in messages ("-Lq").
        var word: String
        /// The option as the user wrote it ("-t" or "--tcp-service").
        var written: String
    }

    private let args: [String]
    private var next = 0
    /// The rest of a cluster of short options being read, e.g. "n" after "-L" in "-Ln".
    private var pendingShorts: Substring?
    private var pendingWord = ""
    private var restAreLeftovers = false
    private(set) var leftovers: [String] = []

    init(_ args: [String]) {
        self.args = args
    }

    /// The next option, nil at the end; throws for an unknown option or a missing value.
    mutating func nextItem() throws(LVSError) -> Item? {
        while true {
            if let shorts = pendingShorts, let c = shorts.first {
                return try shortOption(c, rest: shorts.dropFirst())
            }
            pendingShorts = nil
            guard next < args.count else { return nil }
            let word = args[next]
            next += 1
            if restAreLeftovers || !word.hasPrefix("-") || word == "-" {
                leftovers.append(word)
                continue
            }
            if word == "--" {
                restAreLeftovers = true
                continue
            }
            if word.hasPrefix("--") {
                return try longOption(word)
            }
            pendingWord = word
            pendingShorts = word.dropFirst()
        }
    }

    private mutating func longOption(_ word: String) throws(LVSError) -> Item {
        let body = word.dropFirst(2)
        let name: Substring
        var inlineValue: String?
        if let eq = body.firstIndex(of: "=") {
            name = body[..<eq]
            inlineValue = String(body[body.index(after: eq)...])
        } else {
            name = body
        }
        guard let spec = IPVSAdmOptionTable.spec(long: name) else {
            throw .badInput(Self.unknownLongMessage(word, name: name))
        }
        let written = "--" + name
        switch spec.argument {
        case .none:
            // popt 1.19 refuses a value for an option that takes none (--numeric=1).
            if inlineValue != nil { throw .badInput("\(written) takes no value; write \(written) alone") }
            return Item(spec: spec, value: nil, word: word, written: written)
        case .required(let what):
            if let inlineValue { return Item(spec: spec, value: inlineValue, word: word, written: written) }
            guard next < args.count else { throw .badInput("\(written) needs a value: \(what)") }
            next += 1
            return Item(spec: spec, value: args[next - 1], word: word, written: written)
        case .optional:
            if let inlineValue { return Item(spec: spec, value: inlineValue, word: word, written: written) }
            return Item(spec: spec, value: takeOptionalValue(), word: word, written: written)
        }
    }

    private mutating func shortOption(_ c: Character, rest: Substring) throws(LVSError) -> Item {
        pendingShorts = rest.isEmpty ? nil : rest
        guard let spec = IPVSAdmOptionTable.spec(short: c) else {
            throw .badInput(Self.unknownShortMessage(c, word: pendingWord))
        }
        let written = "-" + String(c)
        switch spec.argument {
        case .none:
            // popt 1.19 refuses "-n=5" like "--numeric=5".
            if rest.first == "=" { throw .badInput("\(written) takes no value, but '\(pendingWord)' gives it one; write \(written) alone") }
            return Item(spec: spec, value: nil, word: pendingWord, written: written)
        case .required(let what), .optional(let what):
            if !rest.isEmpty {
                // The rest of the word is the value; popt skips one '=' ("-p=60").
                pendingShorts = nil
                let value = rest.first == "=" ? rest.dropFirst() : rest
                return Item(spec: spec, value: String(value), word: pendingWord, written: written)
            }
            if case .optional = spec.argument {
                return Item(spec: spec, value: takeOptionalValue(), word: pendingWord, written: written)
            }
            guard next < args.count else { throw .badInput("\(written) needs a value: \(what)") }
            next += 1
            return Item(spec: spec, value: args[next - 1], word: pendingWord, written: written)
        }
    }

    /// popt's POPT_ARGFLAG_OPTIONAL: the next word, unless there is none or it starts with '-'.
    private mutating func takeOptionalValue() -> String? {
        guard !restAreLeftovers, next < args.count, !args[next].hasPrefix("-") else { return nil }
        next += 1
        return args[next - 1]
    }

    private static func unknownLongMessage(_ word: String, name: Substring) -> String {
        let candidates = IPVSAdmOptionTable.completions(of: name)
        var message = "unknown option '\(word)'"
        if candidates.count == 1 {
            message += "; ipvsadm takes long options only in full: write --\(candidates[0])"
        } else if candidates.count > 1 {
            message += "; did you mean " + candidates.map { "--" + $0 }.joined(separator: " or ") + "?"
        } else {
            message += "; see 'ipvsadm -h' for the options"
        }
        return message
    }

    private static func unknownShortMessage(_ c: Character, word: String) -> String {
        var message = "unknown option '-\(c)'"
        if word.count > 2 { message += " in '\(word)'" }
        return message + "; see 'ipvsadm -h' for the options"
    }
}
