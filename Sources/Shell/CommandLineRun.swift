/// The one-shot face, `lvsh WORD...`, built on CommandInput.commandLine.
extension Session {
    /// `lvsh WORD...`: one command, its errors located in the command line as echoed (column and caret
    /// under the word at fault). Session.runWords numbers the words instead of their columns.
    public func runCommandLine(_ words: [String]) -> Int32 {
        run([CommandInput.commandLine(words)], file: "command line")
    }
}
