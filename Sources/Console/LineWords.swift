/// The line before the cursor as the tokenizer will read it, so that `?` and TAB see the same words
/// the command will run with: quotes group words, a backslash escapes, `;` starts a new command and
/// `#` at the start of a word comments out the rest.
public struct LineWords: Equatable, Sendable {
    /// The complete words of the command the cursor is in (after the last `;`).
    public var words: [String] = []
    /// The word under the cursor, unquoted; empty after a space.
    public var partial = ""
    /// How many characters (Unicode scalars, as libedit counts them) the partial word takes in the
    /// buffer, quotes and backslashes included: what a completion replaces.
    public var partialLength = 0
    /// The quote still open at the cursor.
    public var quote: Character?
    /// The cursor is in a comment: neither help nor completion apply there.
    public var inComment = false

    public init(words: [String] = [], partial: String = "", partialLength: Int = 0, quote: Character? = nil,
                inComment: Bool = false) {
        self.words = words
        self.partial = partial
        self.partialLength = partialLength
        self.quote = quote
        self.inComment = inComment
    }

    /// Splits `text`, the buffer up to the cursor.
    public init(_ text: String) {
        // A partial word exists once any of its characters (even an empty pair of quotes) was seen.
        var started = false
        var escaped = false
        var quotedBackslash = false
        func endWord() {
            if started { words.append(partial) }
            partial = ""
            partialLength = 0
            started = false
        }
        for scalar in text.unicodeScalars {
            let ch = Character(scalar)
            if inComment { continue }
            if escaped {
                partial.append(ch)
                partialLength += 1
                escaped = false
                continue
            }
            if let q = quote {
                partialLength += 1
                if quotedBackslash {
                    // Inside double quotes a backslash escapes only these, as in sh; elsewhere it stays.
                    if !"\"\\$`".contains(ch) { partial.append("\\") }
                    partial.append(ch)
                    quotedBackslash = false
                } else if ch == q {
                    quote = nil
                } else if q == "\"" && ch == "\\" {
                    quotedBackslash = true
                } else {
                    partial.append(ch)
                }
                continue
            }
            switch ch {
            case " ", "\t", "\r", "\n":
                endWord()
            case ";":
                endWord()
                words = []
            case "#" where !started:
                inComment = true
            case "'", "\"":
                quote = ch
                started = true
                partialLength += 1
            case "\\":
                escaped = true
                started = true
                partialLength += 1
            default:
                partial.append(ch)
                partialLength += 1
                started = true
            }
        }
    }
}
