import Foundation
import Testing
@testable import Shell

/// A remembered parse must answer exactly as a fresh one: the same command, the same bindings, the
/// same error at the same word, for every command of the catalog with its words varied.
struct ParseMemoTests {
    static let pool = ["1", "0", "70000", "4294967296", "10.0.0.9", "10.0.0.9:80", "10.0.0.9:99999", "[2001:db8::1]:80",
                       "2001:db8::2", "web", "fwmark", "x-y", "0x10", "80,443", "8000-8100", "rr", "eth0", "nat", "w",
                       "any", "10.0.0.1,10.0.0.2", "sh", "real", "weight", "", "tcp", "ipv6", "-A", "9z"]

    static func lines() throws -> [String] {
        var lines = Catalog.table.commands.flatMap(\.examples)
        let rules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../rules")
        for file in try FileManager.default.contentsOfDirectory(atPath: rules.path) where file.hasSuffix(".lvsh") {
            let text = try String(contentsOf: rules.appendingPathComponent(file), encoding: .utf8)
            lines += try Tokenizer.commands(in: text).map { $0.words.joined(separator: " ") }
        }
        return lines
    }

    func same(_ a: Result<(Command, Bindings), ParseFailure>, _ b: Result<(Command, Bindings), ParseFailure>) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)): x.0.usage == y.0.usage && x.1 == y.1 && x.1.keywords == y.1.keywords
        case (.failure(let x), .failure(let y)): x.message == y.message && x.wordIndex == y.wordIndex
        default: false
        }
    }

    @Test func aRememberedParseAnswersAsAFreshOne() throws {
        var variants: [[String]] = []
        for line in try Self.lines() {
            let words = try Tokenizer.commands(in: line)[0].words
            variants.append(words)
            for i in words.indices {
                for value in Self.pool {
                    var w = words
                    w[i] = value
                    variants.append(w)
                }
            }
        }
        var rng = SystemRandomNumberGenerator()
        var memo = ParseMemo()
        var checked = 0
        for words in variants.shuffled(using: &rng) + variants {
            let remembered = Catalog.table.parse(words, memo: &memo)
            let fresh = Catalog.table.parse(words)
            #expect(same(remembered, fresh), "\(words)")
            checked += 1
        }
        #expect(checked > 5000)
        #expect(!memo.outcomes.isEmpty)
    }

    @Test func valuesComeFromTheNewCommand() throws {
        var memo = ParseMemo()
        _ = Catalog.table.parse(["real", "fwmark", "1000", "10.1.0.1:80", "nat", "weight", "1"], memo: &memo)
        guard case .success(let (command, b)) = Catalog.table.parse(["real", "fwmark", "2000", "10.2.0.1:8080", "nat", "weight", "7"], memo: &memo) else {
            Issue.record("did not parse")
            return
        }
        #expect(command.name == "real")
        #expect(b.first("fwmark") == "2000" && b.first("real") == "10.2.0.1:8080" && b.first("weight") == "7")
        #expect(b.first("method") == "nat" && b.has("nat"))
        #expect(memo.outcomes.count == 1)
    }
}
