import Console
import Testing

@Suite struct LineWordsTests {
    @Test func wordsAndPartial() {
        #expect(LineWords("show gr") == LineWords(words: ["show"], partial: "gr", partialLength: 2))
        #expect(LineWords("show ") == LineWords(words: ["show"]))
        #expect(LineWords("") == LineWords())
        #expect(LineWords("  no   group  web") == LineWords(words: ["no", "group"], partial: "web", partialLength: 3))
    }

    @Test func quotesGroupWords() {
        // A closed quote is one word; the quotes themselves are not part of it.
        #expect(LineWords("set x 'a b' ").words == ["set", "x", "a b"])
        #expect(LineWords("set x \"a b\"c ").words == ["set", "x", "a bc"])
        // An open quote: the partial word counts its quote, which a completion replaces.
        let open = LineWords("no group \"we")
        #expect(open.words == ["no", "group"])
        #expect(open.partial == "we")
        #expect(open.partialLength == 3)
        #expect(open.quote == "\"")
        // An empty pair of quotes is an (empty) word.
        #expect(LineWords("a '' ").words == ["a", ""])
    }

    @Test func backslashesAsTheTokenizerReadsThem() {
        #expect(LineWords("a\\ b ").words == ["a b"])
        #expect(LineWords("\"a\\\"b\" ").words == ["a\"b"])
        // Inside double quotes a backslash before an ordinary character stays.
        #expect(LineWords("\"a\\d\" ").words == ["a\\d"])
        #expect(LineWords("x a\\").partialLength == 2)
    }

    @Test func semicolonStartsANewCommand() {
        #expect(LineWords("show groups; sh") == LineWords(words: [], partial: "sh", partialLength: 2))
        #expect(LineWords("show groups;no group ").words == ["no", "group"])
    }

    @Test func commentsEndTheWords() {
        #expect(LineWords("show # gr").inComment)
        #expect(!LineWords("show a#b").inComment)
        #expect(LineWords("show a#b").partial == "a#b")
        #expect(!LineWords("'#x").inComment)
    }
}
