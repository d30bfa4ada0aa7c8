import LVSModel

/// A word of a command line and where it stood in the input.
public struct Token: Hashable, Sendable {
    public var text: String
    /// 1-based line and column of the word's first character.
    public var line: Int
    public var column: Int

    public init(text: String, line: Int, column: Int) {
        self.text = text
        self.line = line
        self.column = column
    }
}

/// One command of a batch: its words and the source line it started on.
public struct CommandInput: Hashable, Sendable {
    public var tokens: [Token]
    public var line: Int
    /// The command's first line as read; `source` shows it. Only a message needs it shown, and making
    /// that text for each of a 20,000-line file's commands was a sixth of a daemon's reload.
    private var firstLine: Substring
    private var firstLineIsShown: Bool

    /// The physical source text of the command's first line, for error carets: as errors show it
    /// (Shown.line: control characters escaped, a long line cut).
    public var source: String { firstLineIsShown ? String(firstLine) : Shown.line(firstLine) }

    init(tokens: [Token], line: Int, firstLine: Substring, isShown: Bool = false) {
        self.tokens = tokens
        self.line = line
        self.firstLine = firstLine
        firstLineIsShown = isShown
    }

    public var words: [String] { tokens.map(\.text) }
}

/// Splits shell-language input into commands and words: `#` comments, `;` and newlines between commands,
/// a backslash at the end of a line continues it, single and double quotes group words as in sh.
public enum Tokenizer {
    public static func commands(in input: String, file: String = "-") throws(LVSError) -> [CommandInput] {
        var commands: [CommandInput] = []
        try forEachCommand(in: input, file: file) { commands.append($0) }
        return commands
    }

    /// Hands each command to `body` as soon as it is read, so that a long file is never held as tokens
    /// all at once (apply reads 50,000-line files, and in the lab every page touched costs).
    public static func forEachCommand(in input: String, file: String = "-",
                                      _ body: (CommandInput) throws(LVSError) -> Void) throws(LVSError) {
        // One line at a time, not an array of them: at 20,000 lines the array is 160 pages, each a
        // page fault the daemon's reload pays again (≈170 µs a page in user-mode-linux).
        var cursor = LineCursor(input)
        var text: Substring = ""
        var current: [Token] = []
        var startLine = 0
        var startText: Substring = ""
        var word = ""
        var wordStart: (Int, Int)? = nil
        var quote: Character? = nil

        func flushWord() {
            if let (l, c) = wordStart { current.append(Token(text: word, line: l, column: c)) }
            word = ""
            wordStart = nil
        }
        func startWord(_ line: Int, _ column: Int) {
            if wordStart == nil { wordStart = (line, column); if current.isEmpty { startLine = line; startText = text } }
        }
        func flushCommand() throws(LVSError) {
            flushWord()
            if !current.isEmpty {
                try body(CommandInput(tokens: current, line: startLine, firstLine: startText))
            }
            current.removeAll(keepingCapacity: true)
            startLine = 0
        }

        var lineNo = 0
        while let line = cursor.next() {
            text = line
            lineNo += 1
            if quote == nil, plainWords(text, line: lineNo, into: &current) {
                if !current.isEmpty && startLine == 0 { startLine = lineNo; startText = text }
                try flushCommand()
                continue
            }
            let chars = Array(text)
            var i = 0
            var continued = false
            while i < chars.count {
                let ch = chars[i]
                let col = i + 1
                if let q = quote {
                    i += quoted(q, chars, at: i, word: &word, quote: &quote)
                    continue
                }
                switch ch {
                case " ", "\t", "\r":
                    flushWord()
                case "#" where wordStart == nil:
                    i = chars.count
                    continue
                case ";":
                    try flushCommand()
                case "'", "\"":
                    startWord(lineNo, col)
                    quote = ch
                case "\\":
                    if i == chars.count - 1 {
                        continued = true
                    } else {
                        startWord(lineNo, col)
                        word.append(chars[i + 1])
                        i += 1
                    }
                default:
                    startWord(lineNo, col)
                    word.append(ch)
                }
                i += 1
            }
            if let quote { throw unterminated(quote, text, file: file, line: lineNo) }
            if !continued { try flushCommand() } else { flushWord() }
        }
        try flushCommand()
    }

    /// One character inside quotes: how many characters it took. A double quote lets a backslash
    /// escape `"`, `\\`, `$` and a backquote, as the shell does.
    private static func quoted(_ q: Character, _ chars: [Character], at i: Int, word: inout String, quote: inout Character?) -> Int {
        let ch = chars[i]
        if ch == q {
            quote = nil
        } else if q == "\"" && ch == "\\" && i + 1 < chars.count && "\"\\$`".contains(chars[i + 1]) {
            word.append(chars[i + 1])
            return 2
        } else {
            word.append(ch)
        }
        return 1
    }

    private static func unterminated(_ quote: Character, _ text: Substring, file: String, line: Int) -> LVSError {
        let shown = Shown.line(text)
        return .badInput("\(file):\(line): unterminated \(quote == "'" ? "single" : "double") quote\n  \(shown)\n"
            + "  \(String(repeating: " ", count: shown.count))^\nClose the quote on the same line.")
    }

    /// The words of a line of printable ASCII with nothing for the tokenizer to interpret (no quote,
    /// backslash, `#` or `;`), appended to `tokens`; false, with `tokens` untouched, for any other line.
    /// Most lines of a configuration are like this, and reading bytes is what keeps a 50,000-line
    /// apply file cheap.
    static func plainWords(_ text: Substring, line: Int, into tokens: inout [Token]) -> Bool {
        var text = text
        return text.withUTF8 { b in
            for c in b {
                guard c == 0x20 || (c > 0x20 && c < 0x7f) else { return false }
                switch c {
                case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "#"), UInt8(ascii: ";"): return false
                default: continue
                }
            }
            var i = 0
            while i < b.count {
                if b[i] == 0x20 { i += 1; continue }
                let start = i
                while i < b.count && b[i] != 0x20 { i += 1 }
                tokens.append(Token(text: String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self),
                                    line: line, column: start + 1))
            }
            return true
        }
    }
}

extension CommandInput {
    /// One command given as the words of a command line (`lvsh group web vip 1.2.3.999 tcp 80`): the
    /// source line is the words joined by spaces, and each token's column is where its word stands in
    /// that line, so that a message's column and caret point at the word at fault. The line shows each
    /// word as messages do (Shown.word: escaped, cut), and the columns count what is shown.
    public static func commandLine(_ words: [String]) -> CommandInput {
        var tokens: [Token] = []
        var column = 1
        let shown = words.map { Shown.word($0) }
        for (word, seen) in zip(words, shown) {
            tokens.append(Token(text: word, line: 1, column: column))
            column += seen.count + 1
        }
        return CommandInput(tokens: tokens, line: 1, firstLine: Substring(shown.joined(separator: " ")), isShown: true)
    }
}

/// The lines of a text, one at a time. Its bytes are scanned for newlines a block at a time, so that
/// nothing the size of the text is made besides it; bytes, because splitting Characters costs more
/// than the rest of reading a plain line, and the generic split of a UTF8View about ten times a byte
/// scan (a group of 100,000 VIPs is one 1.5 MB line).
struct LineCursor {
    private let text: String
    /// Byte offsets of the newlines found by the last scan, and the next of them to use.
    private var newlines: [Int] = []
    private var used = 0
    /// How far the bytes have been scanned.
    private var scanned = 0
    private var start: String.Index
    private var done = false

    init(_ input: String) {
        var text = input
        text.makeContiguousUTF8()
        self.text = text
        start = text.utf8.startIndex
    }

    mutating func next() -> Substring? {
        guard !done else { return nil }
        if used == newlines.count { scan() }
        let utf8 = text.utf8
        guard used < newlines.count else {
            done = true
            return Substring(utf8[start...])
        }
        let end = utf8.index(utf8.startIndex, offsetBy: newlines[used])
        used += 1
        defer { start = utf8.index(after: end) }
        return Substring(utf8[start..<end])
    }

    private mutating func scan() {
        used = 0
        // Taken out of self while the closure fills it, keeping its room.
        var found = newlines
        newlines = []
        found.removeAll(keepingCapacity: true)
        var text = self.text
        let from = scanned
        scanned = text.withUTF8 { bytes in
            var i = from
            while i < bytes.count && found.count < 4096 {
                if bytes[i] == UInt8(ascii: "\n") { found.append(i) }
                i += 1
            }
            return i
        }
        newlines = found
    }
}
