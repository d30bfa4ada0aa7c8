import LVSModel

/// Splits an argument vector the way popt 1.19 does for ipvsadm, one option at a time.
///
/// popt rules that matter here: long options match exactly (no abbreviations) and
/// may carry `=value`; short options cluster (`-Ln`) and take the rest of their word
/// as a value (`-t10.0.0.1:80`, `-p=60`) or else the next word, even one starting
/// with '-'; `-p` takes the next word only if it does not start with '-'; words that
/// are not options (and everything after `--`) are collected as leftovers.
///
/// Words are read as Characters, as Swift compares strings. Every line of a `-R` input
/// comes through here, so where a word is ASCII (each byte one Character) the scanner
/// reads bytes, and asks String only about the rest (`CharacterReading`).
struct PoptScanner {
    /// One option as written, with its value if it takes one.
    struct Item: Sendable {
        /// What the option does.
        var tag: IPVSAdmOptionTable.Tag
        var value: String?
        /// The short option's ASCII byte, or the long option's name as written.
        private var name: Name

        private enum Name {
            case short(UInt8)
            case long(Substring)
        }

        init(_ spec: IPVSAdmOptionTable.Spec, value: String?, short: UInt8) {
            self.tag = spec.tag
            self.value = value
            self.name = .short(short)
        }

        init(_ spec: IPVSAdmOptionTable.Spec, value: String?, long: Substring) {
            self.tag = spec.tag
            self.value = value
            self.name = .long(long)
        }

        /// The option as the user wrote it ("-t" or "--tcp-service"), for messages: built
        /// only when asked for, since most lines need no message.
        var written: String {
            switch name {
            case .short(let c): "-" + String(Unicode.Scalar(c))
            case .long(let n): "--" + n
            }
        }
    }

    private let args: [String]
    private var next = 0
    /// The word whose cluster of short options is being read ("-Ln"), and the UTF-8
    /// offset of its next option character (nil when no cluster is pending).
    private var pendingWord = ""
    private var pendingOffset: Int?
    private var restAreLeftovers = false
    private(set) var leftovers: [String] = []

    init(_ args: [String]) {
        self.args = args
    }

    /// The next option, nil at the end; throws for an unknown option or a missing value.
    mutating func nextItem() throws(LVSError) -> Item? {
        while true {
            if let offset = pendingOffset, offset < pendingWord.utf8.count {
                return try shortOption(at: offset)
            }
            pendingOffset = nil
            guard next < args.count else { return nil }
            let word = args[next]
            next += 1
            if restAreLeftovers || !CharacterReading.hasDashPrefix(word, 1) || CharacterReading.isDashes(word, 1) {
                leftovers.append(word)
                continue
            }
            if CharacterReading.isDashes(word, 2) {
                restAreLeftovers = true
                continue
            }
            if CharacterReading.hasDashPrefix(word, 2) {
                return try longOption(word)
            }
            // The cluster follows the '-', which is a whole Character here (hasDashPrefix).
            pendingWord = word
            pendingOffset = 1
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
            return Item(spec, value: nil, long: name)
        case .required(let what):
            if let inlineValue { return Item(spec, value: inlineValue, long: name) }
            guard next < args.count else { throw .badInput("\(written) needs a value: \(what)") }
            next += 1
            return Item(spec, value: args[next - 1], long: name)
        case .optional:
            if let inlineValue { return Item(spec, value: inlineValue, long: name) }
            return Item(spec, value: takeOptionalValue(), long: name)
        }
    }

    /// The short option at UTF-8 offset `offset` of the pending word.
    private mutating func shortOption(at offset: Int) throws(LVSError) -> Item {
        let word = pendingWord
        let (byte, end) = CharacterReading.character(of: word, at: offset)
        let restIsEmpty = end == word.utf8.count
        pendingOffset = restIsEmpty ? nil : end
        // Short options are single ASCII bytes, which no other Character equals (see spec(short:)).
        guard let byte, let spec = IPVSAdmOptionTable.spec(shortByte: byte) else {
            throw .badInput(Self.unknownShortMessage(CharacterReading.character(of: word, in: offset..<end), word: word))
        }
        switch spec.argument {
        case .none:
            // popt 1.19 refuses "-n=5" like "--numeric=5".
            if !restIsEmpty && CharacterReading.isEquals(word, at: end) {
                let written = "-" + String(Unicode.Scalar(byte))
                throw .badInput("\(written) takes no value, but '\(word)' gives it one; write \(written) alone")
            }
            return Item(spec, value: nil, short: byte)
        case .required(let what), .optional(let what):
            if !restIsEmpty {
                // The rest of the word is the value; popt skips one '=' ("-p=60").
                pendingOffset = nil
                let start = CharacterReading.isEquals(word, at: end) ? end + 1 : end
                return Item(spec, value: CharacterReading.suffix(of: word, from: start), short: byte)
            }
            if case .optional = spec.argument {
                return Item(spec, value: takeOptionalValue(), short: byte)
            }
            guard next < args.count else { throw .badInput("-\(String(Unicode.Scalar(byte))) needs a value: \(what)") }
            next += 1
            return Item(spec, value: args[next - 1], short: byte)
        }
    }

    /// popt's POPT_ARGFLAG_OPTIONAL: the next word, unless there is none or it starts with '-'.
    private mutating func takeOptionalValue() -> String? {
        guard !restAreLeftovers, next < args.count, !CharacterReading.hasDashPrefix(args[next], 1) else { return nil }
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

/// What the scanner asks of a word's Characters, answered from its UTF-8 bytes where
/// those decide it: an ASCII byte followed by an ASCII byte (or by nothing) is a whole
/// Character, except CR before LF. Elsewhere String answers, so non-ASCII words behave
/// exactly as they would with Character operations throughout.
package enum CharacterReading {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// Whether the byte at `offset` alone is the Character that starts there.
    private static func isWholeCharacter(_ b: Bytes, at offset: Int) -> Bool {
        guard b[offset] < 0x80 else { return false }
        guard offset + 1 < b.count else { return true }
        return b[offset + 1] < 0x80 && !(b[offset] == 0x0d && b[offset + 1] == 0x0a)
    }

    /// `word.hasPrefix("-")` (n == 1) or `word.hasPrefix("--")` (n == 2).
    package static func hasDashPrefix(_ word: String, _ n: Int) -> Bool {
        let answer: Bool? = CNumberParsing.withBytes(word) { b in
            guard b.count >= n else { return false }
            for i in 0..<n where b[i] != UInt8(ascii: "-") { return false }
            // The dashes are whole Characters when an ASCII byte (or nothing) follows them.
            return b.count == n || b[n] < 0x80 ? true : nil
        }
        return answer ?? word.hasPrefix(n == 1 ? "-" : "--")
    }

    /// `word == "-"` (n == 1) or `word == "--"` (n == 2): nothing else equals them as a String.
    package static func isDashes(_ word: String, _ n: Int) -> Bool {
        word.utf8.count == n && CNumberParsing.withBytes(word) { b in b.allSatisfy { $0 == UInt8(ascii: "-") } }
    }

    /// The Character of `word` that starts at UTF-8 offset `offset` (a Character boundary):
    /// its byte when it is a single one, else the Character; and the offset after it.
    package static func character(of word: String, at offset: Int) -> (byte: UInt8?, end: Int) {
        let whole: UInt8? = CNumberParsing.withBytes(word) { b in isWholeCharacter(b, at: offset) ? b[offset] : nil }
        if let whole { return (whole, offset + 1) }
        let u = word.utf8
        let i = u.index(u.startIndex, offsetBy: offset)
        let end = u.distance(from: u.startIndex, to: word.index(after: i))
        // A one-byte Character is an ASCII one.
        return (end == offset + 1 ? u[i] : nil, end)
    }

    /// The Character of `word` in these UTF-8 offsets.
    package static func character(of word: String, in range: Range<Int>) -> Character {
        let u = word.utf8
        return Character(String(Substring(u[u.index(u.startIndex, offsetBy: range.lowerBound)..<u.index(u.startIndex, offsetBy: range.upperBound)])))
    }

    /// Whether the Character at `offset` (a boundary before the end) is "=".
    package static func isEquals(_ word: String, at offset: Int) -> Bool {
        let answer: Bool? = CNumberParsing.withBytes(word) { b in
            guard b[offset] == UInt8(ascii: "=") else { return false }
            return isWholeCharacter(b, at: offset) ? true : nil
        }
        return answer ?? (character(of: word, in: offset..<character(of: word, at: offset).end) == "=")
    }

    /// The rest of `word` from UTF-8 offset `offset` (a Character boundary).
    package static func suffix(of word: String, from offset: Int) -> String {
        let u = word.utf8
        return String(Substring(u[u.index(u.startIndex, offsetBy: offset)...]))
    }
}
