import LVSModel

/// Every command of lvsh's language, in the order help lists them. Parsing, `?`, TAB, `help` and the
/// command reference all come from this one table.
public enum Catalog {
    public static let table = CommandTable<CommandAction>(
        GroupCommands.commands + ServiceCommands.commands + RealServerCommands.commands + HealthCommands.commands
            + SettingsCommands.commands + ConsoleCommands.commands + ShowCommands.commands + HealthShowCommands.commands
            + SystemCommands.commands + HistoryCommands.commands + sessionCommands)

    static let sessionCommands: [Command] = [
        Command(.sequence([.word("ipvsadm", help: "an ipvsadm command line, exactly as ipvsadm takes it"),
                           .rest("args", help: "ipvsadm's options")]),
                summary: "run any ipvsadm 1.31 command line (in a batch, its changes are checked with the rest)",
                examples: ["ipvsadm -A -t 192.168.61.129:80 -s rr", "ipvsadm -L -n"], handler: .ipvsadm),
        Command(.sequence([.word("help", help: "the commands, or one command in detail"),
                           .rest("topic", help: "the first words of a command")]),
                summary: "list the commands, or explain the ones starting with the given words",
                examples: ["help", "help real"], handler: .help),
        Command(.word("quit", help: "leave the console"), summary: "leave the console", handler: .quit),
        Command(.word("exit", help: "leave the console"), summary: "leave the console", handler: .quit),
    ]

    /// `help`: every command form and its summary; with words, the forms they name, with examples.
    public static func help(_ topic: [String]) throws(LVSError) -> String {
        // `help reference` prints the Markdown reference (docs/commands.md is this output).
        if topic == ["reference"] { return reference() }
        let help = CommandHelp(table: table, footer: OutputFilter.helpText)
        return topic.isEmpty ? help.overview() : try help.explain(topic)
    }

    /// The command reference in Markdown, generated from the table (README and docs).
    public static func reference() -> String {
        var out = "# lvsh command reference\n\nGenerated from the command table (`lvsh help reference`); "
            + "`?` in the console and `help WORD` show the same.\n\n| command | what it does |\n|---|---|\n"
        for c in table.commands {
            out += "| `\(c.usage.replacingBars())` | \(c.summary) |\n"
        }
        out += "\nOutput filters follow show commands, ipvsadm listings and help after `|`; several may follow "
            + "each other (`show rules | include tcp | count`).\n\n| filter | what it does |\n|---|---|\n"
        for f in OutputFilter.table.commands {
            out += "| `\\| \(f.usage)` | \(f.summary) |\n"
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    /// Markdown tables cannot hold a bare `|`.
    func replacingBars() -> String { split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }
}
