/// What a batch runs of its input.
public enum BatchInput {
    /// The commands before the first `quit` or `exit` (or an abbreviation, `q`): a batch ends there, as
    /// the console does, and what follows is neither checked nor run.
    public static func untilQuit(_ commands: [CommandInput]) -> [CommandInput] {
        guard let stop = commands.firstIndex(where: isQuit) else { return commands }
        return Array(commands[..<stop])
    }

    /// `quit` and `exit` take no words, so only a one-word command can be one.
    static func isQuit(_ input: CommandInput) -> Bool {
        guard input.tokens.count == 1, case .success(let (command, _)) = Catalog.table.parse(input.words),
              case .quit = command.handler else { return false }
        return true
    }
}
