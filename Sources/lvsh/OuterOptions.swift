#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Console
import LVSModel
import Shell

/// The outer command line of DESIGN.md: global options, then `-c`, `-f` or the words of one command.
struct OuterOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsh",
        abstract: "Linux load-balancer controller: IPVS services, firewall-mark port groups and their sysctls.",
        discussion: """
            Without -c, -f or words, lvsh reads commands from standard input (a console when it is a terminal).
            `lvsh ipvsadm ARG...` accepts any ipvsadm command line. Exit codes: 0 ok, 1 the kernel or \
            system refused or failed, 2 bad input or usage (nothing applied).
            """
    )

    @Option(name: .customLong("backend"), help: "Firewall-mark backend: nft or iptables.")
    var backend: String?

    @Option(name: .customLong("config"), help: "Settings file (default /etc/lvsh/lvsh.conf).")
    var config: String?

    @Option(name: .customShort("c"), help: "Commands to run, separated by ';', as typed in the console.")
    var commands: String?

    @Option(name: .customShort("f"), help: "A batch file of commands ('-' for standard input).")
    var file: String?

    @Flag(help: "Machine-readable output.")
    var json = false

    @Flag(name: .customLong("dry-run"), help: "Print the plan instead of applying it.")
    var dryRun = false

    @Flag(help: "apply: plan only; exit 0 and report whether changes are pending.")
    var check = false

    @Flag(help: "apply: show the difference between before and after.")
    var diff = false

    @Flag(help: "apply: also remove services, groups and sync daemons the file does not name.")
    var prune = false

    @Option(help: "apply: drain real servers that leave (weight 0, delete when idle or after SECONDS).")
    var drain: Int?

    @Option(name: .customLong("confirm"), help: "apply: roll back after SECONDS unless `lvsh confirm` runs.")
    var confirmSeconds: Int?

    @Argument(parsing: .allUnrecognized, help: "One command, e.g. `show services`.")
    var words: [String] = []

    func validate() throws {
        if let backend, !["nft", "iptables"].contains(backend) {
            throw ValidationError("--backend must be nft or iptables, not '\(backend)'")
        }
        if commands != nil && file != nil { throw ValidationError("give -c or -f, not both") }
        if (commands != nil || file != nil) && !words.isEmpty {
            throw ValidationError("give -c, -f or the words of one command, not several")
        }
    }

    func run() throws {
        let settings = OuterSettings(json: json, dryRun: dryRun, check: check, diff: diff, prune: prune, backend: backend,
                                     config: config, drain: drain, confirm: confirmSeconds, appliesFile: words.first == "apply")
        let options: SessionOptions
        do {
            options = try settings.sessionOptions()
        } catch {
            throw ValidationError(error.message)
        }
        let session = Session.standard(.lvsh(options))
        let code: Int32
        if let commands {
            code = session.runScript(commands, name: "-c")
        } else if let file {
            code = session.runFile(file)
        } else if !words.isEmpty {
            code = session.runWords(words)
        } else if isatty(0) != 0 {
            code = InteractiveConsole(session: session).run()
        } else {
            code = session.runFile("-")
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// Splits `lvsh [GLOBAL...] ipvsadm ARG...` into the globals and ipvsadm's own arguments.
enum OuterCommandLine {
    /// Global options that take a value, so that their value is not mistaken for the command word.
    static let optionsWithValue: Set<String> = ["--backend", "--config"]

    static func ipvsadmSplit(_ args: [String]) -> (globals: [String], ipvsadmArguments: [String])? {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "ipvsadm" { return (Array(args[..<i]), Array(args[(i + 1)...])) }
            guard a.hasPrefix("-") else { return nil }
            if optionsWithValue.contains(a) { i += 1 }
            if a == "-c" || a == "-f" { return nil }
            i += 1
        }
        return nil
    }
}
