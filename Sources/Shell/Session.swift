#if canImport(Glibc)
import Glibc
#endif
import Engine
import Firewall
import System
import IPVS
import LVSModel

/// How a session runs: the outer options of DESIGN.md.
public struct SessionOptions: Sendable {
    public var json = false
    public var dryRun = false
    /// "nft", "iptables", or nil to pick nft where the kernel has the inet family.
    public var backend: String?
    /// Fault injection for tests (LVSH_FAIL_STEP): the executor fails this 1-based change.
    public var failStep: Int?
    /// Whether lvsh sets the sysctls a configuration needs (setting auto-sysctl).
    public var autoSysctl = true
    /// Whether committed changes are archived, not only logged (setting archive).
    public var archive = true
    /// The settings file (--config).
    public var configPath = Settings.defaultPath
    /// What `save` with no FILE writes: the boot configuration, or the daemon's FILE.
    public var bootConfigPath = SessionOptions.defaultBootConfig
    public static let defaultBootConfig = "/etc/lvsh/running.lvsh"
    /// --check, --diff, --prune, --drain and --confirm of `apply`.
    public var apply = ApplyOptions()
    /// ipvsadm's language, for `lvsh ipvsadm` and `ipvsadm` lines (the executable registers it).
    public var ipvsadm: (any EmbeddedLanguage)?

    public init(json: Bool = false, dryRun: Bool = false, backend: String? = nil, failStep: Int? = nil) {
        self.json = json
        self.dryRun = dryRun
        self.backend = backend
        self.failStep = failStep
    }
}

/// One run of lvsh: where output goes, how the kernel is reached, and the faces that feed it commands.
public final class Session {
    public let options: SessionOptions
    private let writeOut: (String) -> Void
    private let writeErr: (String) -> Void
    /// The console's settings and its hold on a line's output; nil outside the console.
    public var console: ConsoleState?
    public let control: any IPVSControl
    private var backend: (any MarkBackend)?
    let readSysctl: (String) -> String?
    let writeSysctl: (String, String) throws(LVSError) -> Void
    /// The namespace's runtime folder (writer lock, pending rollback); nil with fakes.
    public let runtime: () throws(LVSError) -> RuntimeDirectory?
    /// Whether commands that need the kernel are refused up front without CAP_NET_ADMIN: for the
    /// kernel's session, not for one on fakes.
    var needsPrivilege = false
    /// The daemon's part of the state (checks, maintenance, metrics) when this session is the daemon's:
    /// batches may change it and shows print it. nil elsewhere: such commands are then refused.
    public var health: HealthConfig?
    /// The daemon's view of its real servers' health (`show health`); nil outside the daemon.
    public var healthStatus: (() -> [RealHealthStatus])?
    /// `confirm` inside lvsh daemon: the daemon keeps the pending rollback, not /run/lvsh's files.
    public var confirmPending: (() -> String)?
    /// Files the front read and sent with its batch (`apply FILE`, `load FILE`), by the path it names.
    public var files: [String: String] = [:]
    /// Sends a writing batch to the namespace's daemon, when one runs (set by the executable): the
    /// daemon is the one writer, and this session only prints what it answers.
    public var forward: ((ControlRequest) throws(LVSError) -> ControlReply)?
    /// Writes a file a batch made (`save FILE`): the daemon collects them for the front instead.
    public var writeFile: (FileWrite) throws(LVSError) -> Void = { (w: FileWrite) throws(LVSError) in try AtomicFile.write(w.contents, to: w.path) }
    /// Where this session records its committed changes (archive and log); nil on fakes and inside the
    /// daemon's batches (the daemon records what it commits).
    public var history: ChangeHistory?

    public init(options: SessionOptions = SessionOptions(), control: any IPVSControl, backend: (any MarkBackend)? = nil,
                out: @escaping (String) -> Void, err: @escaping (String) -> Void,
                readSysctl: @escaping (String) -> String? = { _ in nil },
                writeSysctl: @escaping (String, String) throws(LVSError) -> Void = { _, _ throws(LVSError) in },
                runtime: @escaping () throws(LVSError) -> RuntimeDirectory? = { () throws(LVSError) in try RuntimeDirectory.current() }) {
        self.options = options
        self.control = control
        self.backend = backend
        writeOut = out
        writeErr = err
        self.readSysctl = readSysctl
        self.writeSysctl = writeSysctl
        self.runtime = runtime
    }

    /// Writes to standard output (held while the console holds the line's output, for its pager).
    public func out(_ text: String) {
        if console?.take(text, toError: false) != true { writeOut(text) }
    }

    /// Writes to standard error (held in order with standard output while the console holds it).
    public func err(_ text: String) {
        if console?.take(text, toError: true) != true { writeErr(text) }
    }

    /// The namespace as the engine reaches it.
    public var kernel: KernelAccess {
        KernelAccess(ipvs: { [control] () throws(LVSError) in control },
                     marks: { (forWriting: Bool) throws(LVSError) in try self.marks(forWriting: forWriting) },
                     readSysctl: readSysctl, writeSysctl: writeSysctl, runtime: runtime)
    }

    /// The session of the lvsh executable: the kernel's IPVS, stdout and stderr.
    public static func standard(_ options: SessionOptions = SessionOptions(),
                                err: @escaping (String) -> Void = { StandardStream.write($0, to: 2) }) -> Session {
        let session = Session(options: options, control: LazyIPVSClient(),
                              out: { StandardStream.write($0, to: 1) }, err: err,
                              readSysctl: ProcSysctl.read, writeSysctl: ProcSysctl.write)
        session.needsPrivilege = true
        session.history = .standard()
        session.history?.archives = options.archive
        return session
    }

    /// The firewall-mark backend, chosen on first use: --backend (or the setting), else where lvsh's
    /// rules already are, else nftables where the kernel has the inet family. Only a writer may probe
    /// the kernel for the family (an aborted nf_tables transaction costs milliseconds); a reader that
    /// finds no rules anywhere reads the empty nftables table.
    func marks(forWriting: Bool = true) throws(LVSError) -> any MarkBackend {
        if let backend, forWriting ? !backendIsGuess : true { return backend }
        let chosen: any MarkBackend
        backendIsGuess = false
        switch options.backend {
        case "iptables": chosen = IPTablesBackend()
        case "nft": chosen = try NFTablesBackend()
        default:
            // holdsGroups reads the table list and the names, never the maps: the same cost at any size.
            if let nft = try? NFTablesBackend(), (try? nft.holdsGroups()) == true {
                chosen = nft
            } else if IPTablesBackend.hasLegacyMangle() {
                chosen = IPTablesBackend()
            } else if !forWriting, let nft = try? NFTablesBackend() {
                chosen = nft
                backendIsGuess = true
            } else {
                switch NFTablesBackend.probe() {
                case .available: chosen = try NFTablesBackend()
                case .noInetFamily: chosen = IPTablesBackend()
                case .missing: chosen = IPTablesBackend(nfTablesMissing: true)
                }
            }
        }
        backend = chosen
        return chosen
    }

    /// Whether the backend was picked by a reader without probing: a writer decides again.
    private var backendIsGuess = false

    var showContext: ShowContext {
        var context = ShowContext(ipvs: { [control] () throws(LVSError) in control }, marks: { () throws(LVSError) in try self.marks(forWriting: false) },
                                  connections: { () throws(LVSError) in try ConnectionReader.read() }, json: options.json, sysctl: readSysctl)
        context.health = health ?? HealthConfig()
        context.healthStatus = healthStatus
        return context
    }

    /// `lvsh ipvsadm ARG...`. A line that changes the table holds the namespace's writer lock, as
    /// every other writer does, so it never interleaves with a batch or an apply.
    public func runIPVSAdm(_ args: [String]) -> Int32 {
        guard let language = options.ipvsadm else {
            err("lvsh: this program does not include the ipvsadm front\n")
            return LVSError.Code.badInput.rawValue
        }
        var lock: WriterLock? = nil
        // `-R`'s input, read with the same limit as command files.
        var input = ""
        var changes = false
        if let line = try? language.parse(args) {
            changes = line.changesState && !options.dryRun
            if forward != nil && line.changesState && !options.dryRun {
                return runIPVSAdmThroughDaemon(args, readsInput: line.readsInput)
            }
            do throws(LVSError) {
                if !options.dryRun && line.changesState { lock = try runtime().map { dir throws(LVSError) in try WriterLock(dir) } }
                if line.readsInput { input = try InputFile.read("-") }
            } catch {
                err(error.message + "\n")
                return error.code.rawValue
            }
        }
        defer { withExtendedLifetime(lock) {} }
        let code = language.run(args, control: control, stdin: { input }, out: out, err: err,
                                readConnections: { () throws(LVSError) in try ConnectionReader.read() })
        if changes {
            // ipvsadm's own path plans nothing lvsh could summarise: the command line is the change
            // (`-R`, its lines). A failure may have applied part of it, as ipvsadm does: logged, and
            // archived only when it succeeded.
            let command = "ipvsadm " + args.map(HealthText.quoted).joined(separator: " ")
            let lines = input.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("#") }.map { "ipvsadm " + $0 }
            recordChange(front: "ipvsadm", source: command, steps: lines.isEmpty ? [command] : lines,
                         failure: code == 0 ? nil : LVSError(.failed, "ipvsadm exited \(code)"))
        }
        return code
    }

    /// The daemon's check names, for TAB (asked over the control socket; none without a daemon).
    public func checksForCompletion() -> [String] {
        if let health { return health.checks.map(\.name) }
        guard let forward, let reply = try? forward(ControlRequest(name: "completion", text: "show checks json\n")), reply.code == 0 else { return [] }
        return reply.out.matches(of: /"name":"([A-Za-z0-9._-]+)"/).map { String($0.output.1) }
    }

    /// ipvsadm's writes while a daemon runs: the same lines as a batch of `ipvsadm ...` commands
    /// (`-R`'s input one line each), run by the daemon.
    private func runIPVSAdmThroughDaemon(_ args: [String], readsInput: Bool) -> Int32 {
        var lines = ["ipvsadm " + args.map(HealthText.quoted).joined(separator: " ")]
        if readsInput {
            do throws(LVSError) {
                lines = try InputFile.read("-").split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
                    .filter { !$0.isEmpty && !$0.hasPrefix("#") }
                    .map { "ipvsadm " + $0 }
            } catch {
                err(error.message + "\n")
                return error.code.rawValue
            }
        }
        do throws(LVSError) {
            let reply = try forward!(ControlRequest(name: "ipvsadm", text: lines.joined(separator: "\n") + "\n", options: options))
            err(reply.err)
            out(reply.out)
            return reply.code
        } catch {
            err(error.message + "\n")
            return error.code.rawValue
        }
    }

    /// A command file's text, or standard input for "-".
    public static func readInput(_ path: String) throws(LVSError) -> String {
        try InputFile.read(path)
    }

    /// A file a command names: as the front sent it (the daemon's session), else read here.
    func input(_ path: String) throws(LVSError) -> String {
        if let text = files[path] { return text }
        return try Self.readInput(path)
    }

    /// A plain line console (no line editor on this terminal): each line as the editing console runs
    /// it; `quit` or end of input to leave.
    public func runConsole() -> Int32 {
        var last: Int32 = 0
        while true {
            out("lvsh> ")
            guard let line = StandardStream.readLine(0) else {
                out("\n")
                return last
            }
            guard line.contains(where: { !$0.isWhitespace }) else { continue }
            let (code, quit) = runConsoleLine(line)
            last = code
            if quit { return last }
        }
    }

    func run(_ commands: [CommandInput], file: String) -> Int32 {
        var batch = Batch(session: self, file: file)
        return batch.run(commands)
    }
}
