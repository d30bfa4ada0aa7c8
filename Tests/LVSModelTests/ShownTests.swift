import Testing
import LVSModel

/// Words quoted in messages: control characters escaped, Unicode kept, long words cut.
struct ShownTests {
    @Test func escapesControlCharacters() {
        #expect(Shown.word("web") == "web")
        #expect(Shown.word("a\u{1b}[2Jb") == "a\\x1b[2Jb")
        #expect(Shown.word("a\tb\nc\rd\u{0}\u{7f}") == "a\\x09b\\x0ac\\x0dd\\x00\\x7f")
        #expect(Shown.word("x\u{85}y\u{9b}z") == "x\\x85y\\x9bz")            // C1 controls (NEL, CSI)
        #expect(Shown.word("\u{202E}evil\u{2066}") == "\\u{202E}evil\\u{2066}")  // bidirectional overrides
    }

    @Test func keepsUnicode() {
        #expect(Shown.word("grüße-日本-🙂") == "grüße-日本-🙂")
        #expect(Shown.word("👩‍👩‍👧") == "👩‍👩‍👧")   // joiners are not controls
    }

    @Test func cutsLongWords() {
        let long = String(repeating: "x", count: 1_000_000)
        #expect(Shown.word(long) == String(repeating: "x", count: 64) + "…")
        #expect(Shown.word(String(repeating: "x", count: 64)) == String(repeating: "x", count: 64))
        #expect(Shown.word(String(repeating: "\u{1}", count: 100)).count == 64 * 4 + 1)
        #expect(Shown.line(long).count == Shown.lineLimit + 1)
    }

    @Test func linesAndMessagesKeepTheirLayout() {
        #expect(Shown.line("\tgroup web\u{1b}") == "\tgroup web\\x1b")
        #expect(Shown.message("line 1\n\tline 2 '\u{1b}[31m'\n") == "line 1\n\tline 2 '\\x1b[31m'\n")
        #expect(Shown.message("plain\n") == "plain\n")
    }
}
