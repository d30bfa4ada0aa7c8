/// One option of the outer command line (`lvsh --backend nft ...`).
public struct OuterOption: Sendable {
    /// The spellings, long first: ["--help", "-h"].
    public let names: [String]
    /// The metavariable of its value; nil for a flag.
    public let value: String?
    /// The values completion offers; empty when free or a file.
    public let choices: [String]
    /// Whether its value is a file name (completion offers files).
    public let takesFile: Bool
    public let help: String
    /// Whether it may also follow the words of a command (DESIGN.md: --json, --dry-run, ...).
    public let followsWords: Bool

    init(_ names: [String], value: String? = nil, choices: [String] = [], file: Bool = false, followsWords: Bool = false, help: String) {
        self.names = names
        self.value = value
        self.choices = choices
        self.takesFile = file
        self.help = help
        self.followsWords = followsWords
    }

    /// `--backend nft|iptables`: the option as help and the manual show it.
    public var synopsis: String { names[0] + (value.map { " " + $0 } ?? "") }
}

/// The commands of the outer command line that are not in the console's language: they read files or
/// run for long, with arguments of their own.
public enum OuterCommand: Sendable {
    case daemon, importConfiguration, adopt
}

/// The outer command line as data: the executable's parsers, `--help`, the manual page and the shell
/// completion scripts all read it, so an option is described once.
public enum OuterInterface {
    public static let options: [OuterOption] = [
        OuterOption(["--backend"], value: "nft|iptables", choices: ["nft", "iptables"], help: "Firewall-mark backend: nft or iptables."),
        OuterOption(["--config"], value: "FILE", file: true, help: "Settings file (default /etc/lvsh/lvsh.conf)."),
        OuterOption(["-c"], value: "'CMD; CMD'", help: "Commands to run, separated by ';', as typed in the console."),
        OuterOption(["-f"], value: "FILE", file: true, help: "A batch file of commands ('-' for standard input)."),
        OuterOption(["--json"], followsWords: true, help: "Machine-readable output (the console's trailing `json`)."),
        OuterOption(["--dry-run"], followsWords: true, help: "Print the plan instead of applying it."),
        OuterOption(["--check"], followsWords: true, help: "apply: plan only; exit 0 and report whether changes are pending."),
        OuterOption(["--diff"], followsWords: true, help: "apply: show the difference between before and after."),
        OuterOption(["--prune"], followsWords: true, help: "apply: also remove services, groups and sync daemons the file does not name."),
        OuterOption(["--exit-code"], followsWords: true, help: "apply --check, show diff: exit 3 when changes are pending, 0 when in sync."),
        OuterOption(["--drain"], value: "SECONDS", followsWords: true,
                    help: "apply: drain real servers that leave (weight 0, delete when idle or after SECONDS)."),
        OuterOption(["--confirm"], value: "SECONDS", followsWords: true, help: "apply: roll back after SECONDS unless `lvsh confirm` runs."),
        OuterOption(["--version"], help: "Print lvsh's version, the commit it was built from and the kernel's IPVS version."),
        OuterOption(["--help", "-h"], help: "Print the options, the commands and examples."),
    ]

    /// The option spelled `name`, for the executable's parser declarations.
    public static func option(_ name: String) -> OuterOption {
        options.first { $0.names.contains(name) }!
    }

    /// daemon, import and adopt: grammar for completion and the manual (each command parses its own
    /// arguments; these say the same).
    public static let commands = CommandTable<OuterCommand>([
        CommandSpec(.sequence([.word("daemon", help: "the controller, in the foreground (systemd Type=notify)"),
                               .optional(.value("file", .file, help: "the configuration to keep (default /etc/lvsh/running.lvsh)"))]),
                    summary: "keep the kernel matching FILE: apply it, run its health checks, repair drift, reload on SIGHUP; "
                        + "SIGTERM leaves the kernel as it is",
                    examples: ["daemon /etc/lvsh/running.lvsh"], handler: .daemon),
        CommandSpec(.sequence([.word("import", help: "another tool's configuration as lvsh commands"),
                               .word("keepalived", help: "keepalived.conf's LVS part"),
                               .value("file", .file, help: "keepalived's configuration file"),
                               .anyOrder([.option("--config-id", .text, help: "the id `@ID` lines are kept for (default: the host name)"),
                                          .flag("--groups", help: "virtual servers that differ only by port become port groups")])]),
                    summary: "print keepalived's virtual servers, checkers, sync daemons and timeouts as lvsh commands "
                        + "(a warning on standard error for each directive not carried)",
                    examples: ["import keepalived /etc/keepalived/keepalived.conf --groups"], handler: .importConfiguration),
        CommandSpec(.sequence([.word("import", help: "another tool's configuration as lvsh commands"),
                               .word("ipvsadm", help: "an `ipvsadm -S` dump"),
                               .optional(.value("file", .file, help: "the dump ('-' or nothing: standard input)"))]),
                    summary: "print an `ipvsadm -S` dump as lvsh commands",
                    examples: ["import ipvsadm /etc/ipvsadm.rules"], handler: .importConfiguration),
        CommandSpec(.sequence([.word("adopt", help: "the live kernel as an lvsh configuration"),
                               .optional(.flag("--take-over", help: "make the groups of others' mark rules lvsh groups"))]),
                    summary: "print the kernel's IPVS services, timeouts, sync daemons, sysctls and mark rules as lvsh commands; "
                        + "writes nothing",
                    examples: ["adopt --take-over"], handler: .adopt),
    ])

    /// Whole command lines for `--help` and the manual's EXAMPLES.
    public static let examples: [(line: String, what: String)] = [
        ("lvsh", "the console (TAB completes, `?` explains what may come next)"),
        ("lvsh group web vip 192.168.61.129 tcp 80,443", "a port group: one firewall mark for both ports"),
        ("lvsh service web scheduler wlc persistent 300", "a persistent fwmark service for the group"),
        ("lvsh real web 10.1.0.11 nat weight 3", "a real server of that service"),
        ("lvsh show services --json", "the services and their real servers as JSON"),
        ("lvsh -c 'real web 10.1.0.11 weight 0; real web 10.1.0.12 weight 5'", "two changes, applied together or not at all"),
        ("lvsh save /etc/lvsh/running.lvsh", "the running configuration as a file"),
        ("lvsh apply /etc/lvsh/running.lvsh --check --diff", "what apply would change"),
        ("lvsh apply /etc/lvsh/running.lvsh --confirm 60", "apply, rolled back unless `lvsh confirm` follows within 60 s"),
        ("lvsh ipvsadm -L -n", "any ipvsadm command line"),
        ("lvsh import keepalived /etc/keepalived/keepalived.conf > running.lvsh", "keepalived's LVS part as lvsh commands"),
    ]

    /// Exit statuses, everywhere (DESIGN.md).
    public static let exitStatuses: [(code: Int, meaning: String)] = [
        (0, "success"),
        (1, "the kernel or the system refused or failed"),
        (2, "bad input or usage; nothing was applied"),
        (3, "only with --exit-code: changes are pending"),
    ]

    public static let environment: [(name: String, meaning: String)] = [
        ("LVSH_STATE_DIR", "where the configuration archive lives (default /var/lib/lvsh)"),
        ("LVSH_RUNTIME_DIR", "where the per-namespace runtime folders live (default /run/lvsh)"),
        ("LVSH_HISTORY", "the console's history file (default ~/.lvsh_history of the effective user; empty: no history file)"),
    ]

    public static let files: [(path: String, meaning: String)] = [
        ("/etc/lvsh/lvsh.conf", "settings (`set backend`, `set auto-sysctl`); --config names another"),
        ("/etc/lvsh/running.lvsh", "the configuration lvsh-apply.service applies at boot and lvsh daemon keeps"),
        ("/run/lvsh/net-INODE/", "runtime state of one network namespace: the writer lock, a pending --confirm, the daemon's socket"),
        ("/var/lib/lvsh/", "the configuration archive"),
    ]
}
