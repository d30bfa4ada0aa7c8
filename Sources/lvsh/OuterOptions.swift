#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
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
        var options = SessionOptions(json: json, dryRun: dryRun, backend: backend)
        // Fault injection for tests: make the executor's step k fail (documented in the README).
        if let k = getenv("LVSH_FAIL_STEP").flatMap({ Int(String(cString: $0)) }) { options.failStep = k }
        let session = Session.standard(options)
        let code: Int32
        if let commands {
            code = session.runScript(commands, name: "-c")
        } else if let file {
            code = session.runFile(file)
        } else if !words.isEmpty {
            code = session.runWords(words)
        } else if isatty(0) != 0 {
            code = session.runConsole()
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
