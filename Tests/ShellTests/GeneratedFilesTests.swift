import Foundation
@testable import Shell
import Testing

/// The manual page and the completion scripts are generated from the command table and OuterInterface;
/// the checked-in copies (which the Debian package installs) must be what lvsh generates now.
struct GeneratedFilesTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/packaging/generated")

    @Test("tools/packaging/generated matches `lvsh __generate man|bash|zsh`", arguments: [
        ("lvsh.8", ManPage.text()), ("lvsh.bash", CompletionScripts.bash()), ("_lvsh", CompletionScripts.zsh()),
    ])
    func current(_ file: String, _ generated: String) throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(file), encoding: .utf8)
        #expect(text == generated, "tools/packaging/generated/\(file) is stale: regenerate with tools/packaging/generate")
    }

    @Test("the manual lists every command of the table and every outer option, with its examples")
    func manualCoversTheTable() {
        let man = ManPage.text()
        for c in Catalog.table.commands {
            #expect(man.contains("\\fB" + ManPage.roff(c.usage) + "\\fR"), "\(c.usage) is missing from lvsh.8")
            for e in c.examples { #expect(man.contains(ManPage.roff(e)), "example \(e) is missing") }
        }
        for o in OuterInterface.options { #expect(man.contains(ManPage.roff(o.names[0])), "\(o.names[0]) is missing") }
        for name in ["LVSH_STATE_DIR", "LVSH_HISTORY", "/etc/lvsh/lvsh.conf", ".SH EXIT STATUS"] { #expect(man.contains(name)) }
    }

    @Test("roff: minus signs and backslashes escaped, code in bold, no line starts as a request")
    func roffEscapes() {
        #expect(ManPage.roff("a-b \\d `x`") == "a\\-b \\ed \\fBx\\fR")
        #expect(ManPage.roff(".x\n'y") == "\\&.x\n\\&'y")
    }

    @Test("--help lists every command of the table (its leading words), the outer commands and the examples")
    func helpListsCommands() {
        let help = HelpText.text()
        for c in Catalog.table.commands { #expect(help.contains("  " + c.name), "\(c.name) is missing from --help") }
        for c in OuterInterface.commands.commands { #expect(help.contains(c.usage)) }
        for e in OuterInterface.examples { #expect(help.contains(e.line)) }
    }

    @Test("the examples of --help and the manual parse: the language's with the command table, the rest with theirs")
    func examplesParse() {
        for e in OuterInterface.examples {
            var words: [String] = []
            var rest = e.line.split(separator: " ").map(String.init).dropFirst()
            while let w = rest.popFirst(), w != ">" {
                // Options are the outer command line's, not words of the language.
                if w.hasPrefix("--") {
                    if OuterInterface.options.first(where: { $0.names.contains(w) })?.value != nil { rest = rest.dropFirst() }
                } else {
                    words.append(w)
                }
            }
            guard let first = words.first, first != "-c", first != "ipvsadm" else { continue }
            let parsed: Bool
            if case .success = Catalog.table.parse(Array(words)) { parsed = true }
            else if case .success = OuterInterface.commands.parse(Array(words)) { parsed = true }
            else { parsed = false }
            #expect(parsed, "\(e.line) does not parse: \(words)")
        }
    }

    @Test("the outer commands' examples parse with their grammar")
    func outerExamplesParse() {
        for c in OuterInterface.commands.commands {
            for e in c.examples {
                guard case .success = OuterInterface.commands.parse(e.split(separator: " ").map(String.init)) else {
                    Issue.record("\(e) does not parse")
                    continue
                }
            }
        }
    }
}
