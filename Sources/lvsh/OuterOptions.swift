#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Console
import LVSModel
import Shell
import System

/// The outer command line of DESIGN.md: global options, then `-c`, `-f` or the words of one command.
struct OuterOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsh",
        abstract: "Linux load-balancer controller: IPVS services, firewall-mark port groups and their sysctls.",
        // `--help` prints HelpText (the commands and examples too), not the parser's own help.
        helpNames: []
    )

    /// An option's help, from the one description of the outer command line (OuterInterface).
    static func help(_ name: String) -> ArgumentHelp { ArgumentHelp(OuterInterface.option(name).help) }

    @Option(name: .customLong("backend"), help: help("--backend"))
    var backend: String?

    @Option(name: .customLong("config"), help: help("--config"))
    var config: String?

    @Option(name: .customShort("c"), help: help("-c"))
    var commands: String?

    @Option(name: .customShort("f"), help: help("-f"))
    var file: String?

    @Flag(help: help("--json"))
    var json = false

    @Flag(name: .customLong("dry-run"), help: help("--dry-run"))
    var dryRun = false

    @Flag(help: help("--check"))
    var check = false

    @Flag(help: help("--diff"))
    var diff = false

    @Flag(help: help("--prune"))
    var prune = false

    @Flag(name: .customLong("exit-code"), help: help("--exit-code"))
    var exitCode = false

    @Option(help: help("--drain"))
    var drain: Int?

    @Option(name: .customLong("confirm"), help: help("--confirm"))
    var confirmSeconds: Int?

    @Argument(parsing: .allUnrecognized, help: "One command, e.g. `show services`.")
    var words: [String] = []

    func validate() throws {
        // Unknown options land in `words` (they are parsed as .allUnrecognized); before any word they are
        // options lvsh does not have, not commands.
        if let first = words.first, first.hasPrefix("-"), first != "-" {
            throw ValidationError("unknown option '\(first)'")
        }
        if let backend, !["nft", "iptables"].contains(backend) {
            throw ValidationError("--backend must be nft or iptables, not '\(backend)'")
        }
        if commands != nil && file != nil { throw ValidationError("give -c or -f, not both") }
        if (commands != nil || file != nil) && !words.isEmpty {
            throw ValidationError("give -c, -f or the words of one command, not several")
        }
    }

    func run() throws {
        let settings = OuterSettings(json: json, dryRun: dryRun, check: check, diff: diff, prune: prune, exitCode: exitCode, backend: backend,
                                     config: config, drain: drain, confirm: confirmSeconds, appliesFile: ["apply", "rollback"].contains(words.first ?? ""))
        let options: SessionOptions
        do {
            options = try settings.sessionOptions()
        } catch {
            // The settings file's own message (FILE:LINE: ...), with its exit code: 2 for a malformed file.
            ErrorOutput.shared.write(error.message + "\n")
            throw ExitCode(error.code.rawValue)
        }
        let session = Session.front(options)
        let code: Int32
        if let commands {
            code = session.runBatch(commands, name: "-c")
        } else if let file {
            code = session.runBatchFile(file)
        } else if !words.isEmpty {
            code = session.runCommandLine(words)
        } else if isatty(0) != 0 {
            // A console says each error as it happens.
            ErrorOutput.shared.holds = false
            code = InteractiveConsole(session: session).run()
        } else {
            code = session.runBatchFile("-")
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// Usage errors of the outer command line: lvsh's own message and exit 2 (swift-argument-parser's
/// EX_USAGE, 64, is not one of lvsh's exit codes).
enum Usage {
    static let summary = """
        usage: lvsh [--backend nft|iptables] [--config FILE] [--json] [--dry-run] [-c 'CMD; CMD' | -f FILE | WORD...]
               lvsh ipvsadm ARG...
               lvsh import keepalived FILE [--config-id ID] [--groups] | lvsh import ipvsadm [FILE|-]
               lvsh [--backend nft|iptables] adopt [--take-over]
        Run `lvsh --help` for every option.
        """

    /// What each option with a value takes, for "needs a value" messages.
    static let values: [String: String] = [
        "--backend": "nft or iptables",
        "--config": "the settings file",
        "-c": "commands separated by ';'",
        "-f": "a batch file ('-' for standard input)",
        "--drain": "a number of seconds",
        "--confirm": "a number of seconds",
    ]

    /// The problem with `args` that lvsh can name better than the parser: an option without its value,
    /// or a number option with something else.
    static func problem(in args: [String]) -> String? {
        var i = 0
        while i < args.count {
            let a = args[i]
            guard a.hasPrefix("-"), a != "-" else { return nil }   // the words of a command begin
            if let what = values[a] {
                guard i + 1 < args.count, !args[i + 1].hasPrefix("-") || (a == "-f" && args[i + 1] == "-") else {
                    return "\(a) needs a value: \(what)"
                }
                if a == "--drain" || a == "--confirm", Int(args[i + 1]) == nil || args[i + 1].hasPrefix("+") {
                    return "\(a) takes a whole number of seconds, not '\(args[i + 1])'"
                }
                i += 2
                continue
            }
            i += 1
        }
        return nil
    }

    /// Exits for an error of the outer parser: help on standard output with 0, anything else a usage
    /// error (exit 2).
    static func exit(_ error: Error, arguments: [String], report: (String) -> Void) -> Never {
        if OuterOptions.exitCode(for: error) == .success {
            StandardStream.write(OuterOptions.fullMessage(for: error) + "\n", to: 1)
            ErrorOutput.shared.finish(0)
        }
        fail(problem(in: arguments) ?? lowercasedFirst(OuterOptions.message(for: error)), report: report)
    }

    static func fail(_ message: String, report: (String) -> Void) -> Never {
        report("lvsh: \(message)\n\(summary)\n")
        ErrorOutput.shared.finish(LVSError.Code.badInput.rawValue)
    }

    private static func lowercasedFirst(_ s: String) -> String {
        guard let f = s.first, f.isUppercase, s.dropFirst().first?.isLowercase == true else { return s }
        return f.lowercased() + s.dropFirst()
    }
}

/// Splits `lvsh [GLOBAL...] ipvsadm ARG...` into the globals and ipvsadm's own arguments.
enum OuterCommandLine {
    /// Global options that take a value, so that their value is not mistaken for the command word.
    static let optionsWithValue: Set<String> = ["--backend", "--config", "--drain", "--confirm"]

    /// Whether --json is among the outer options or after the words (not inside `-c`'s text).
    static func wantsJSON(_ args: [String]) -> Bool {
        args.contains("--json")
    }

    /// Whether `flag` is one of the arguments, not as the value of an option (`-c '--help'`).
    static func asks(_ flag: String, _ args: [String]) -> Bool {
        var i = 0
        while i < args.count {
            if args[i] == flag { return true }
            if optionsWithValue.contains(args[i]) || args[i] == "-c" || args[i] == "-f" { i += 1 }
            i += 1
        }
        return false
    }

    static func ipvsadmSplit(_ args: [String]) -> (globals: [String], ipvsadmArguments: [String])? {
        split(args, at: "ipvsadm").map { ($0.globals, $0.rest) }
    }

    /// `lvsh [GLOBAL...] daemon [ARG...]`: the globals and the daemon's arguments, as one list for its parser.
    static func daemonArguments(_ args: [String]) -> [String]? {
        split(args, at: "daemon").map { $0.globals + $0.rest }
    }

    /// `lvsh [GLOBAL...] import ARG...`: import's own arguments (it takes no global option).
    static func importArguments(_ args: [String]) -> [String]? {
        split(args, at: "import").map(\.rest)
    }

    /// `lvsh [--backend X] adopt ARG...`: the global options before it and adopt's own arguments.
    static func adoptArguments(_ args: [String]) -> (globals: [String], rest: [String])? {
        split(args, at: "adopt")
    }

    /// The arguments before and after `word` when it is the command word (the first that is not an option).
    private static func split(_ args: [String], at word: String) -> (globals: [String], rest: [String])? {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == word { return (Array(args[..<i]), Array(args[(i + 1)...])) }
            guard a.hasPrefix("-") else { return nil }
            if optionsWithValue.contains(a) { i += 1 }
            if a == "-c" || a == "-f" { return nil }
            i += 1
        }
        return nil
    }
}
