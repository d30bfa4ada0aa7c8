import IPVS
import LVSModel
import Engine
import Listings

/// Runs one ipvsadm command line against IPVS: `lvsh ipvsadm ARGS...`.
///
/// Pure apart from the injected functions. Returns the exit code: 0 ok, 1 the
/// kernel refused or a read failed, 2 bad input (nothing applied). ipvsadm exits
/// 2 or 255 for bad input and 255 or 1 for kernel errors; lvsh fails in the same
/// cases with lvsh's codes.
public func runIPVSAdm(_ args: [String], control: any IPVSControl, stdin: () -> String,
                       out: (String) -> Void, err rawErr: (String) -> Void,
                       readConnections: () throws(LVSError) -> [Connection]) -> Int32 {
    // ipvsadm's wording, but never a control byte of the user's arguments raw on a terminal.
    func err(_ text: String) { rawErr(Shown.message(text)) }
    let command: IPVSAdmCommand
    do {
        command = try IPVSAdmParser.parse(args)
    } catch {
        err(error.message + "\n")
        return error.code.rawValue
    }
    for warning in command.warnings { err("warning: " + warning + "\n") }
    do throws(LVSError) {
        switch command.request {
        case .help:
            out(IPVSAdmUsage.usage())
        case .version:
            out(IPVSAdmUsage.version())
        case .apply(let operations):
            IPVSAdmRunner.warnAboutResets(operations, control: control, err: err)
            return try IPVSAdmRunner.apply(operations, control: control, err: err)
        case .listAll(let format):
            let info = try control.info()
            IPVSAdmListing.all(info: info, table: try control.table(format.tableDetail), format: format, out: out)
        case .listService(let key, let format):
            guard let status = try control.table(format.tableDetail)[key] else {
                err("service \(key.ipvsadmName) does not exist (see -L -n for the services)\n")
                return LVSError.Code.failed.rawValue
            }
            out(IPVSAdmListing.single(status, format: format))
        case .listConnections(let format):
            out(IPVSAdmOtherListings.connections(try readConnections(), format: format))
        case .listTimeouts:
            out(IPVSAdmOtherListings.timeouts(try control.timeouts()))
        case .listDaemons:
            out(IPVSAdmOtherListings.daemons(try control.daemons()))
        case .save:
            IPVSAdmSave.rules(try control.table(.listing), out: out)
        case .restore:
            return try IPVSAdmRunner.restore(stdin(), control: control, err: err)
        }
        return 0
    } catch {
        let explained = IPVSAdmErrors.explain(error)
        err(explained.message + "\n")
        return explained.code.rawValue
    }
}

/// The parts of `runIPVSAdm` that change the kernel.
enum IPVSAdmRunner {

    /// Runs the operations and reports each refusal.
    static func apply(_ operations: [IPVSOperation], control: any IPVSControl, err: (String) -> Void) throws(LVSError) -> Int32 {
        let results = try control.execute(operations)
        var code: Int32 = 0
        for failure in results.compactMap({ $0 }) {
            err(IPVSAdmErrors.message(for: failure, table: context(for: failure, control: control)) + "\n")
            code = LVSError.Code.failed.rawValue
        }
        return code
    }

    /// `-E` sets every option, so what it leaves out goes back to the default; say what that drops.
    static func warnAboutResets(_ operations: [IPVSOperation], control: any IPVSControl, err: (String) -> Void) {
        guard operations.count == 1, case .editService(let new) = operations[0],
              let old = (try? control.table(.listing))?[new.key]?.service else { return }
        var dropped: [String] = []
        if old.isPersistent && !new.isPersistent { dropped.append("persistence (-p \(old.timeout))") }
        if let pe = old.persistenceEngine, !pe.isEmpty, new.persistenceEngine != pe { dropped.append("the persistence engine (--pe \(pe))") }
        if old.flags.contains(.onePacket) && !new.flags.contains(.onePacket) { dropped.append("one-packet scheduling (-o)") }
        let mask = IPVSAdmListing.schedulerFlagMask
        if !old.flags.intersection(mask).isEmpty && new.flags.intersection(mask).isEmpty {
            dropped.append("the scheduler flags (-b \(IPVSAdmListing.schedulerFlags(old)))")
        }
        if old.scheduler != new.scheduler && new.scheduler == Schedulers.default && old.scheduler != Schedulers.default {
            dropped.append("the scheduler \(old.scheduler) (now the default, \(Schedulers.default))")
        }
        guard !dropped.isEmpty else { return }
        err("warning: -E sets every service option, and this one turns off " + dropped.joined(separator: ", ")
            + "; repeat the options to keep them\n")
    }

    /// The table, read again only when a message can use it.
    static func context(for failure: IPVSFailure, control: any IPVSControl) -> IPVSTable? {
        switch failure.operation {
        case .editRealServer, .deleteRealServer: try? control.table(.listing)
        default: nil
        }
    }

    /// `-R`: check the whole input, run it as one batch, undo it if the kernel refuses a part.
    static func restore(_ text: String, control: any IPVSControl, err: (String) -> Void) throws(LVSError) -> Int32 {
        // Syntax first: a typo is reported without asking the kernel anything.
        let input = try IPVSAdmRestore.parse(text)
        let state = try IPVSState(reading: control)
        let (table, daemons, timeouts) = (state.table, state.daemons, state.timeouts)
        for warning in input.warnings { err("-R line \(warning.line): warning: \(warning.text)\n") }
        try IPVSAdmRestore.check(input, table: table, daemons: daemons, timeouts: timeouts)
        let operations = input.operations
        guard !operations.isEmpty else { return 0 }
        let refused = try control.failures(executing: operations)
        guard !refused.isEmpty else { return 0 }
        let texts = input.lineTexts(refused.map { input.line(ofOperation: $0.index) })
        for (index, errno) in refused {
            let line = input.line(ofOperation: index)
            let failure = IPVSFailure(operation: operations[index], errno: errno)
            err("-R line \(line) (\(texts[line] ?? "")): \(IPVSAdmErrors.message(for: failure, table: table))\n")
        }
        let undo = IPVSAdmRestore.rollback(operations, failed: refused.map(\.index), table: table, daemons: daemons, timeouts: timeouts)
        let stuck = undo.isEmpty ? [] : try control.failures(executing: undo).map { IPVSFailure(operation: undo[$0.index], errno: $0.errno) }
        if stuck.isEmpty {
            err("-R: the kernel refused the input, so the lines it had accepted were undone; nothing was changed"
                + (operations.contains { if case .zero = $0 { true } else { false } } ? " (except counters zeroed by -Z)" : "") + "\n")
        } else {
            err("-R: the kernel refused the input and undoing the accepted lines failed too; the table is partly changed (see -S -n):\n")
            for failure in stuck { err("  " + IPVSAdmErrors.message(for: failure, table: nil) + "\n") }
        }
        return LVSError.Code.failed.rawValue
    }
}

/// ipvsadm's language as lvsh embeds it: `lvsh ipvsadm ARGS` and the `ipvsadm ARGS` lines of lvsh's
/// batches and files. The executable registers it (SessionOptions.ipvsadm): nothing in Engine or
/// Shell depends on this module.
public struct IPVSAdmLanguage: EmbeddedLanguage {
    public init() {}

    public func parse(_ args: [String]) throws(LVSError) -> EmbeddedLine {
        let command = try IPVSAdmParser.parse(args)
        return EmbeddedLine(operations: command.command.changesState && command.command != .restore ? command.operations : [],
                            changesState: command.command.changesState, readsInput: command.command == .restore,
                            needsKernel: { if case .help = command.request { false } else if case .version = command.request { false } else { true } }(),
                            warnings: command.warnings)
    }

    public func run(_ args: [String], control: any IPVSControl, stdin: () -> String, out: (String) -> Void,
                    err: (String) -> Void, readConnections: () throws(LVSError) -> [Connection]) -> Int32 {
        runIPVSAdm(args, control: control, stdin: stdin, out: out, err: err, readConnections: readConnections)
    }

    public var wording: any RefusalWording { IPVSAdmWording() }
}
