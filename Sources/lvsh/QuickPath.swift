#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import Shell

/// What the outer command line says, whichever parser read it.
struct OuterSettings {
    var json = false, dryRun = false, check = false, diff = false, prune = false, exitCode = false
    var backend: String?
    var config: String?
    var drain: Int?
    var confirm: Int?
    /// Whether the command is `apply FILE` or `rollback N`, whose --dry-run is --check.
    var appliesFile = false

    /// The session options: these flags, the settings file, and LVSH_FAIL_STEP.
    func sessionOptions() throws(LVSError) -> SessionOptions {
        var options = SessionOptions(json: json, dryRun: dryRun && !appliesFile, backend: backend)
        // `apply --dry-run` is `apply --check`: a dry run of a desired state is its plan.
        options.apply.check = check || dryRun
        options.apply.diff = diff
        options.apply.prune = prune
        options.apply.exitCode = exitCode
        options.apply.drain = drain
        options.apply.confirm = confirm
        if let config { options.configPath = config }
        let settings = try Settings.load(options.configPath)
        options.autoSysctl = settings.autoSysctl
        options.archive = settings.archive
        if options.backend == nil { options.backend = settings.backend }
        // Fault injection for tests: make the executor's step k fail (documented in the README).
        if let k = getenv("LVSH_FAIL_STEP").flatMap({ Int(String(cString: $0)) }) { options.failStep = k }
        return options
    }
}

/// `lvsh WORD... [--json]`, the way scripts and ansible call lvsh, skips swift-argument-parser:
/// its start-up alone costs more than `nft -j list ruleset` takes. Anything else (help, -c, -f,
/// options with values, mistakes) goes through the full parser.
enum QuickPath {
    static func flag(_ word: String) -> WritableKeyPath<OuterSettings, Bool>? {
        switch word {
        case "--json": \.json
        case "--dry-run": \.dryRun
        case "--check": \.check
        case "--diff": \.diff
        case "--prune": \.prune
        case "--exit-code": \.exitCode
        default: nil
        }
    }

    static func parse(_ args: [String]) -> (words: [String], settings: OuterSettings)? {
        guard let first = args.first, !first.hasPrefix("-") else { return nil }
        var settings = OuterSettings()
        var words: [String] = []
        for a in args {
            if a.hasPrefix("-") {
                guard let flag = flag(a) else { return nil }
                settings[keyPath: flag] = true
            } else {
                words.append(a)
            }
        }
        settings.appliesFile = ["apply", "rollback"].contains(words.first ?? "")
        return (words, settings)
    }
}
