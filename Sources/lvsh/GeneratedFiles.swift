import Console
import Shell
import System

/// `lvsh __generate man|bash|zsh`: the manual page and completion scripts made from the command table
/// (tools/packaging/generate writes them into the repository; a test keeps them current).
enum GenerateCommand {
    static func run(_ args: [String]) -> Int32 {
        let text: String
        switch args {
        case ["man"]: text = ManPage.text()
        case ["bash"]: text = CompletionScripts.bash()
        case ["zsh"]: text = CompletionScripts.zsh()
        default:
            StandardStream.write("lvsh: __generate takes man, bash or zsh\n", to: 2)
            return 2
        }
        StandardStream.write(text, to: 1)
        return 0
    }
}

/// `lvsh __complete WORD... PARTIAL`: the completion scripts' question, answered as the console's TAB
/// would, with the live values of this namespace's kernel (and daemon). Errors stay silent: a TAB
/// that finds nothing offers nothing.
enum CompleteCommand {
    static func output(_ args: [String]) -> String {
        var settings = OuterSettings()
        // The backend and settings file of the line being completed decide where groups are read.
        var i = 0
        while i + 1 < args.count {
            if args[i] == "--backend" { settings.backend = args[i + 1] }
            if args[i] == "--config" { settings.config = args[i + 1] }
            i += 1
        }
        let options = (try? settings.sessionOptions()) ?? SessionOptions()
        let session = Session.front(options)
        let language = ConsoleLanguage(live: .kernel(session))
        return CommandLineCompletion(language: language).output(args)
    }
}
