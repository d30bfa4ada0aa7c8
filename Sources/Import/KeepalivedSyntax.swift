import LVSModel

/// One keyword line of keepalived configuration and the block that follows it, if any:
/// `real_server 10.0.0.1 80 { weight 2 }` is one statement with one statement in its block.
struct Statement: Hashable {
    var words: [String]
    var place: SourcePlace
    var block: [Statement]?

    var keyword: String { words[0] }
    var arguments: ArraySlice<String> { words.dropFirst() }
}

/// keepalived's words and blocks: blanks separate words, `"` and `'` quote, `\` escapes as
/// alloc_strvec_quoted_escaped does; `{` and `}` outside quotes open and close blocks wherever they
/// stand (a `{` on the line after its keyword belongs to it, as in keepalived).
enum KeepalivedSyntax {
    enum Token: Hashable {
        case word(String)
        case open
        case close
    }

    /// The words and braces of one line.
    static func tokens(_ text: String, place: SourcePlace) throws(LVSError) -> [Token] {
        var out: [Token] = []
        var word = ""
        var inWord = false
        var quote: Character?
        let chars = Array(text)
        var i = 0
        func flush() {
            if inWord { out.append(.word(word)) }
            word = ""
            inWord = false
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                guard i + 1 < chars.count else { throw .badInput("\(place): a `\\` at the end of the line escapes nothing") }
                inWord = true
                let (char, used) = escape(chars, i + 1)
                word.append(char)
                i += 1 + used
                continue
            }
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                i += 1
                continue
            }
            switch c {
            case " ", "\t", "\r", "\u{0B}", "\u{0C}":
                flush()
            case "\"", "'":
                inWord = true
                quote = c
            case "{":
                flush()
                out.append(.open)
            case "}":
                flush()
                out.append(.close)
            default:
                inWord = true
                word.append(c)
            }
            i += 1
        }
        if let quote { throw .badInput("\(place): missing terminating \(quote) in `\(text)`") }
        flush()
        return out
    }

    /// The character a backslash escape stands for and how many characters after the `\` it used.
    private static func escape(_ chars: [Character], _ i: Int) -> (Character, Int) {
        let c = chars[i]
        func hexValue(_ ch: Character) -> UInt8? { ch.hexDigitValue.map(UInt8.init) }
        if c == "x", i + 1 < chars.count, hexValue(chars[i + 1]) != nil {
            var value: UInt8 = 0
            var j = i + 1
            while j < chars.count, let h = hexValue(chars[j]) { value = value &<< 4 | h; j += 1 }
            return (Character(Unicode.Scalar(value)), j - i)
        }
        if c == "c", i + 1 < chars.count, let a = chars[i + 1].asciiValue {
            return (Character(Unicode.Scalar(a & 0x1f)), 2)
        }
        if let d = c.wholeNumberValue, d < 8, c.isASCII {
            var value = UInt8(d)
            var j = i + 1
            while j < chars.count, j < i + 3, let e = chars[j].wholeNumberValue, e < 8, chars[j].isASCII { value = value &<< 3 &+ UInt8(e); j += 1 }
            return (Character(Unicode.Scalar(value)), j - i)
        }
        let map: [Character: Character] = ["a": "\u{07}", "b": "\u{08}", "E": "\u{1B}", "f": "\u{0C}", "n": "\n", "r": "\r", "t": "\t", "v": "\u{0B}"]
        return (map[c] ?? c, 1)
    }

    /// The statements of a whole configuration. Unbalanced braces are errors with their place.
    static func statements(_ lines: [SourceLine]) throws(LVSError) -> [Statement] {
        // Each open block: the statements read so far in it, and the statement that owns it.
        var stack: [(owner: Statement?, body: [Statement])] = [(nil, [])]
        for line in lines {
            var words: [String] = []
            func endStatement() {
                if !words.isEmpty { stack[stack.count - 1].body.append(Statement(words: words, place: line.place, block: nil)) }
                words.removeAll()
            }
            for token in try tokens(line.text, place: line.place) {
                switch token {
                case .word(let w):
                    words.append(w)
                case .open:
                    endStatement()
                    guard var owner = stack[stack.count - 1].body.popLast(), owner.block == nil else {
                        throw .badInput("\(line.place): `{` without a keyword before it")
                    }
                    owner.block = []
                    stack.append((owner, []))
                case .close:
                    endStatement()
                    guard stack.count > 1, var finished = stack[stack.count - 1].owner else {
                        throw .badInput("\(line.place): `}` closes no block (one `}` too many)")
                    }
                    finished.block = stack.removeLast().body
                    stack[stack.count - 1].body.append(finished)
                }
            }
            endStatement()
        }
        guard stack.count == 1 else {
            let owner = stack[1].owner!
            throw .badInput("\(owner.place): the block of `\(owner.keyword)` is never closed (a `}` is missing)")
        }
        return stack[0].body
    }
}
