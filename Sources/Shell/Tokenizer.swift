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
    /// The physical source text of the command's first line, for error carets.
    public var source: String

    public var words: [String] { tokens.map(\.text) }
}

/// Splits shell-language input into commands and words: `#` comments, `;` and newlines between commands,
/// a backslash at the end of a line continues it, single and double quotes group words as in sh.
public enum Tokenizer {
    public static func commands(in input: String, file: String = "-") throws(LVSError) -> [CommandInput] {
        let lines = input.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var commands: [CommandInput] = []
        var current: [Token] = []
        var startLine = 0
        var word = ""
        var wordStart: (Int, Int)? = nil
        var quote: Character? = nil

        func flushWord() {
            if let (l, c) = wordStart { current.append(Token(text: word, line: l, column: c)) }
            word = ""
            wordStart = nil
        }
        func flushCommand() {
            flushWord()
            if !current.isEmpty {
                commands.append(CommandInput(tokens: current, line: startLine, source: lines[startLine - 1]))
            }
            current = []
        }

        for (index, text) in lines.enumerated() {
            let lineNo = index + 1
            let chars = Array(text)
            var i = 0
            var continued = false
            while i < chars.count {
                let ch = chars[i]
                let col = i + 1
                if let q = quote {
                    if ch == q {
                        quote = nil
                    } else if q == "\"" && ch == "\\" && i + 1 < chars.count && "\"\\$`".contains(chars[i + 1]) {
                        word.append(chars[i + 1])
                        i += 1
                    } else {
                        word.append(ch)
                    }
                    i += 1
                    continue
                }
                switch ch {
                case " ", "\t", "\r":
                    flushWord()
                case "#" where wordStart == nil:
                    i = chars.count
                    continue
                case ";":
                    flushCommand()
                case "'", "\"":
                    if wordStart == nil { wordStart = (lineNo, col); if current.isEmpty { startLine = lineNo } }
                    quote = ch
                case "\\":
                    if i == chars.count - 1 {
                        continued = true
                    } else {
                        if wordStart == nil { wordStart = (lineNo, col); if current.isEmpty { startLine = lineNo } }
                        word.append(chars[i + 1])
                        i += 1
                    }
                default:
                    if wordStart == nil { wordStart = (lineNo, col); if current.isEmpty { startLine = lineNo } }
                    word.append(ch)
                }
                i += 1
            }
            if quote != nil {
                throw .badInput("\(file):\(lineNo): unterminated \(quote == "'" ? "single" : "double") quote\n  \(text)\n  \(String(repeating: " ", count: text.count))^\nClose the quote on the same line.")
            }
            if !continued { flushCommand() } else { flushWord() }
        }
        flushCommand()
        return commands
    }
}
