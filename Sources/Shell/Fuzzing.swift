import LVSModel

/// The entry points of the libFuzzer harnesses in tools/fuzz and of the tests that replay their
/// corpora (Tests/ShellTests/FuzzCorpusTests.swift): each takes any bytes, must return for every
/// input, and traps (`fatalError`) only where two ways of reading the same input disagree.
/// Nothing here touches the kernel, the files or the terminal.
public enum ShellFuzzEntry {
    /// `tokenize`: the bytes as a batch of lvsh commands (as UTF-8, bad bytes replaced). Each command
    /// is parsed by the command table with a memo shared along the batch and without one, which must
    /// answer alike (see ParseMemo), then asked what may follow it and how its last word completes
    /// (`?` and TAB in the console).
    public static func tokenizeAndParse(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let commands: [CommandInput]
        do {
            commands = try Tokenizer.commands(in: text, file: "fuzz")
        } catch {
            _ = error.message
            return
        }
        checkPlainLine(text, commands)
        var memo = ParseMemo()
        for input in commands {
            let words = input.words
            let remembered = Catalog.table.parse(words, memo: &memo)
            let fresh = Catalog.table.parse(words)
            guard same(remembered, fresh) else {
                fatalError("a remembered parse answers otherwise than a fresh one for \(words)")
            }
            _ = Catalog.table.next(after: Array(words.dropLast()))
            _ = Catalog.table.complete(words.last ?? "", after: Array(words.dropLast())) { _ in ["10.0.0.1:80", "web"] }
        }
    }

    /// A line the tokenizer reads by its fast path (printable ASCII, nothing to interpret) must give
    /// the same words as the general path, which a trailing comment sends it through.
    private static func checkPlainLine(_ text: String, _ commands: [CommandInput]) {
        guard !text.isEmpty, text.utf8.allSatisfy({ c in
            c == 0x20 || (c > 0x20 && c < 0x7f && !"'\"\\#;".utf8.contains(c))
        }) else { return }
        guard let general = try? Tokenizer.commands(in: text + " #", file: "fuzz") else {
            fatalError("a plain line fails the tokenizer's general path: \(text)")
        }
        let key = { (c: [CommandInput]) in c.map { $0.tokens.map { [$0.text, "\($0.line)", "\($0.column)"] } } }
        guard key(general) == key(commands) else {
            fatalError("the tokenizer's fast and general paths read a plain line differently: \(text)")
        }
    }

    private static func same(_ a: Result<(Command, Bindings), ParseFailure>, _ b: Result<(Command, Bindings), ParseFailure>) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)): x.0.usage == y.0.usage && x.1 == y.1 && x.1.keywords == y.1.keywords
        case (.failure(let x), .failure(let y)): x.message == y.message && x.wordIndex == y.wordIndex
        default: false
        }
    }
}
