import Testing
import TestSupport
import LVSModel
@testable import Shell
import IPVSAdm

/// `-R` reads 50,000-line inputs, so the hot parts of ipvsadm parsing read bytes where the
/// general code reads Characters. Each byte reader must answer exactly as the general code
/// wherever it answers: checked here on the reference corpus and on random mutations of it,
/// with non-ASCII, CR, LF and combining characters among the pieces.
@Suite struct IPVSAdmFastPathTests {

    static let pieces: [String] = [
        "-", "--", "=", ":", ".", "[", "]", "#", ",", " ", "  ", "\t", "\r", "\n", "\r\n", "0", "1", "8", "0x", "A", "a", "f",
        "t", "r", "m", "w", "p", "n", "L", "6", "é", "\u{301}", "\u{212A}", "\u{37E}", "\u{200D}", "😀", "\u{600}",
        "ipvsadm", "-f", "-t", "-r", "-a", "-A", "1000", "10.0.0.1", ":80", "[2001:db8::1]", "::", "http", "255", "4294967295",
        "10.1", "0177.0.0.1", "08.0.0.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4:65536", "-0", "+80", "99999999999999999999",
    ]

    static func text(_ rng: inout SeededGenerator, base: String) -> String {
        var scalars = Array(base.unicodeScalars)
        for _ in 0..<(Int(rng.next() % 4)) {
            let piece = Array(pieces[Int(rng.next() % UInt64(pieces.count))].unicodeScalars)
            let at = scalars.isEmpty ? 0 : Int(rng.next() % UInt64(scalars.count + 1))
            switch rng.next() % 3 {
            case 0: scalars.insert(contentsOf: piece, at: at)
            case 1: if at < scalars.count { scalars.remove(at: at) }
            default: scalars.replaceSubrange(at..<min(scalars.count, at + piece.count), with: piece)
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    static var corpus: [String] {
        ipvsadmReferenceCases.flatMap(\.args) + pieces + ["-a -f 1000 -r 10.1.0.1:80 -m -w 1", "ipvsadm -A -t 1.2.3.4:80 # x"]
    }

    @Test func asciiWordsAreTheWordsOfTheLine() {
        var rng = SeededGenerator(state: 1)
        let lines = ipvsadmReferenceCases.map { $0.args.joined(separator: " ") }
        var checked = 0
        for base in lines + Self.pieces {
            for _ in 0..<200 {
                let line = Self.text(&rng, base: rng.next() % 4 == 0 ? "ipvsadm " + base + " # c" : base)
                // -R splits lines at LF not after CR first, so a line holds no other LF.
                var words: [String] = []
                let fast = CNumberParsing.withBytes(line) { IPVSAdmRestore.asciiWords($0, into: &words) }
                guard fast else { continue }
                checked += 1
                #expect(words == IPVSAdmRestore.words(of: Substring(line)), "\(Array(line.unicodeScalars))")
            }
        }
        #expect(checked > 10000)
    }

    @Test func linesAreCutWhereCharactersAreLineFeeds() {
        var rng = SeededGenerator(state: 2)
        for _ in 0..<20000 {
            var text = ""
            for _ in 0..<(Int(rng.next() % 5)) { text += Self.text(&rng, base: Self.pieces[Int(rng.next() % UInt64(Self.pieces.count))]) }
            var lines: [Substring] = []
            CNumberParsing.withBytes(text) { b in
                IPVSAdmRestore.forEachLine(b) { _, range in
                    lines.append(IPVSAdmRestore.substring(text, range))
                    return true
                }
            }
            #expect(lines == text.split(separator: "\n", omittingEmptySubsequences: false), "\(Array(text.unicodeScalars))")
        }
    }

    @Test func plainEndpointsReadAsTheGeneralParserReadsThem() {
        var rng = SeededGenerator(state: 3)
        var answered = 0
        for base in Self.corpus {
            for _ in 0..<60 {
                let text = Self.text(&rng, base: base)
                guard let fast = IPVSAdmValueParsing.plainIPv4Endpoint(text) else { continue }
                answered += 1
                for proto: L4Protocol? in [nil, .tcp, .udp] {
                    #expect(fast == (try? IPVSAdmValueParsing.anyEndpoint(text, option: "-r", protocol: proto)), "\(Array(text.unicodeScalars))")
                }
            }
        }
        #expect(answered > 1000)
    }

    @Test func wordReadingAgreesWithCharacters() {
        var rng = SeededGenerator(state: 4)
        for base in Self.corpus {
            for _ in 0..<60 {
                let word = Self.text(&rng, base: base)
                #expect(CharacterReading.hasDashPrefix(word, 1) == word.hasPrefix("-"))
                #expect(CharacterReading.hasDashPrefix(word, 2) == word.hasPrefix("--"))
                #expect(CharacterReading.isDashes(word, 1) == (word == "-"))
                #expect(CharacterReading.isDashes(word, 2) == (word == "--"))
                // Walking the word from after its first Character gives its Characters.
                guard let first = word.first else { continue }
                var offset = first.utf8.count
                for c in word.dropFirst() {
                    let (byte, end) = CharacterReading.character(of: word, at: offset)
                    #expect(end - offset == c.utf8.count, "\(Array(word.unicodeScalars))")
                    #expect(byte == (c.utf8.count == 1 ? c.utf8.first : nil))
                    #expect(CharacterReading.character(of: word, in: offset..<end) == c)
                    #expect(CharacterReading.isEquals(word, at: offset) == (c == "="))
                    #expect(CharacterReading.suffix(of: word, from: offset) == String(word[word.utf8.index(word.startIndex, offsetBy: offset)...]))
                    offset = end
                }
            }
        }
    }

    /// Short options are looked up by byte: no Character other than the option's own ASCII one
    /// may equal it, or a canonically equivalent spelling would be refused where ipvsadm's table
    /// (compared as Characters) would find it.
    @Test func onlyTheOptionLetterItselfEqualsAShortOption() {
        let shorts = IPVSAdmOptionTable.specs.compactMap(\.short)
        for v in 0x80...0x10FFFF {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let c = Character(scalar)
            #expect(!shorts.contains(c), "U+\(String(v, radix: 16)) equals a short option")
            #expect(IPVSAdmOptionTable.spec(short: c) == nil || shorts.contains(c))
        }
        for s in IPVSAdmOptionTable.specs {
            guard let c = s.short else { continue }
            #expect(IPVSAdmOptionTable.spec(short: c)?.long == IPVSAdmOptionTable.specs.first { $0.short == c }?.long)
        }
    }
}
