/// `lvsh --help`: the outer options, the commands of the language (from the command table) and
/// examples, all from the data the manual page is made of.
public enum HelpText {
    /// What lvsh is, in paragraphs (the manual's DESCRIPTION).
    public static let description = [
        """
        lvsh programs Linux Virtual Server (IPVS) services and their real servers, and keeps port groups: named \
        sets of addresses, protocols and ports that share one firewall mark, written as rules of lvsh's own \
        nftables table (or iptables rules), so that one fwmark service serves them all.
        """,
        """
        Without -c, -f or words, lvsh reads commands from standard input: a console when it is a terminal. \
        Every front runs the same language, checks a whole batch first and undoes it whole when the kernel \
        refuses a step. `lvsh ipvsadm ARG...` accepts any ipvsadm command line. While `lvsh daemon` runs, \
        every writer sends its changes to it.
        """,
    ]

    public static func text() -> String {
        var out = "lvsh \(LVSHVersion.string): Linux load-balancer controller: IPVS services, firewall-mark port groups and their sysctls.\n\n"
        out += """
            usage: lvsh [OPTION...] [-c 'CMD; CMD' | -f FILE | WORD...]
                   lvsh ipvsadm ARG...

            """
        for c in OuterInterface.commands.commands { out += "       lvsh " + c.usage + "\n" }
        out += "\n" + description[1] + "\n\nOptions:\n"
        let width = OuterInterface.options.map { $0.names.joined(separator: ", ").count + ($0.value.map { $0.count + 1 } ?? 0) }.max() ?? 0
        for o in OuterInterface.options {
            let left = o.names.joined(separator: ", ") + (o.value.map { " " + $0 } ?? "")
            out += "  " + left.padding(width) + "  " + o.help + "\n"
        }
        out += "\nCommands (`lvsh help WORD` for one in detail, `lvsh help reference` for all):\n"
        let rows = Catalog.table.commands.map { (brief($0.syntax), $0.summary) } + OuterInterface.commands.commands.map { (brief($0.syntax), $0.summary) }
        let nameWidth = min(24, rows.map(\.0.count).max() ?? 0)
        for (name, summary) in rows { out += "  " + name.padding(nameWidth) + "  " + summary + "\n" }
        out += "\nExamples:\n"
        for e in OuterInterface.examples { out += "  " + e.line + "\n      " + e.what + "\n" }
        out += "\nExit codes: " + OuterInterface.exitStatuses.map { "\($0.code) \($0.meaning)" }.joined(separator: "; ") + ".\n"
        out += "See lvsh(8).\n"
        return out
    }

    /// The head of a command's grammar: its keywords and values up to the first optional part or choice
    /// ("group GROUP add", "show services").
    static func brief(_ syntax: Syntax) -> String {
        guard case .sequence(let items) = syntax else { return SyntaxText.render(syntax) }
        var words: [String] = []
        for item in items {
            switch item {
            case .word, .value: words.append(SyntaxText.render(item))
            default: return words.joined(separator: " ")
            }
        }
        return words.joined(separator: " ")
    }
}
