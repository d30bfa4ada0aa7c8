import LVSModel

/// Settings of the console session itself, kept for the session only (not in lvsh.conf).
enum ConsoleCommands {
    static let commands: [Command] = [
        Command(.sequence([.word("set", help: "an lvsh setting"),
                           .word("pager", help: "the console's pager, for output taller than the terminal (this session only)"),
                           .oneOf("state", [("on", "page long output with $PAGER, else less -FRX (the default)"),
                                            ("off", "print output whole")])]),
                summary: "page console output taller than the terminal, or not: for this console session only "
                    + "(not kept in lvsh.conf; `| no-more` skips it for one command; batches and pipes never page)",
                examples: ["set pager off"], handler: .session(pager)),
    ]

    @Sendable static func pager(_ b: Bindings, _ session: Session) throws(LVSError) -> String {
        guard let console = session.console else {
            throw .badInput("`set pager` sets the interactive console's pager for its session; batches, -c, one-shot "
                            + "commands and output to a pipe never page, so there is nothing to set here")
        }
        console.pager = b.first("state") == "on"
        return "pager \(console.pager ? "on" : "off") for this console session\n"
    }
}
