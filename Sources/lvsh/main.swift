#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CNetlink
import IPVS
import LVSModel
import Shell
import IPVSAdm
import System

// Large tables are arrays of megabytes that grow by doubling. Above glibc's default threshold
// (128 KiB) each growth is a fresh mmap whose pages are all touched again, and freed memory goes back
// to the kernel only to be faulted in anew; where a first touch is dear (≈60 µs a page in
// user-mode-linux) that was a tenth of `lvsh apply` on 10,000 services. Keep big blocks on the heap.
mallopt(M_MMAP_THRESHOLD, 32 << 20)
mallopt(M_TRIM_THRESHOLD, 256 << 20)

// `lvsh ipvsadm ARG...` hands every later argument to the ipvsadm translator untouched, so it is
// split off before the outer parser could read ipvsadm's options as its own.
let arguments = Array(CommandLine.arguments.dropFirst())
// The detached process of `apply --confirm` (see RollbackWaiter).
if arguments.first == RollbackWaiter.command, arguments.count == 3 {
    exit(RollbackWaiter.run(dir: arguments[1], seconds: Int(arguments[2]) ?? 0, session: Session.lvsh()))
}
// The shell completion scripts' question (`lvsh __complete WORD... PARTIAL`) and the generated files.
if arguments.first == "__complete" {
    StandardStream.write(CompleteCommand.output(Array(arguments.dropFirst())), to: 1)
    exit(0)
}
if arguments.first == "__generate" {
    exit(GenerateCommand.run(Array(arguments.dropFirst())))
}
let errors = ErrorOutput.shared
let report: (String) -> Void = { errors.write($0) }
if let rest = OuterCommandLine.daemonArguments(arguments) {
    do {
        let command = try DaemonCommand.parse(rest)
        try command.run()
        exit(0)
    } catch let code as ExitCode {
        exit(code.rawValue)
    } catch {
        if DaemonCommand.exitCode(for: error) == .success {
            StandardStream.write(DaemonCommand.fullMessage(for: error) + "\n", to: 1)
            exit(0)
        }
        Usage.fail("daemon: " + DaemonCommand.message(for: error), report: report)
    }
}
// `lvsh import keepalived|ipvsadm ...` reads files and prints; it never touches the kernel.
if let rest = OuterCommandLine.importArguments(arguments) {
    exit(ImportCommand.run(rest))
}
// `lvsh adopt`: the live kernel as an lvsh configuration; it reads and prints, never writes.
if let split = OuterCommandLine.adoptArguments(arguments) {
    exit(AdoptCommand.run(globals: split.globals, split.rest))
}
if let split = OuterCommandLine.ipvsadmSplit(arguments) {
    var options = SessionOptions()
    if !split.globals.isEmpty {
        do {
            let outer = try OuterOptions.parse(split.globals)
            guard outer.words.isEmpty, outer.commands == nil, outer.file == nil else {
                Usage.fail("`ipvsadm` takes the rest of the command line: give only global options before it", report: report)
            }
            options = SessionOptions(json: outer.json, dryRun: outer.dryRun, backend: outer.backend)
        } catch {
            Usage.exit(error, arguments: split.globals, report: report)
        }
    }
    if !Privilege.hasNetAdmin() && ((try? IPVSAdmLanguage().parse(split.ipvsadmArguments))?.needsKernel ?? false) {
        errors.write(Privilege.message + "\n")
        exit(LVSError.Code.failed.rawValue)
    }
    // ipvsadm's output is ipvsadm's, --json or not. Its writes go to the daemon when one runs; its
    // listings read the kernel here (looking for a daemon would cost them a start-up's worth).
    let writes = (try? IPVSAdmLanguage().parse(split.ipvsadmArguments))?.changesState ?? false
    exit((writes ? Session.front(options) : Session.lvsh(options)).runIPVSAdm(split.ipvsadmArguments))
}
// `--version` and `--help` answer whatever else the command line holds (ipvsadm's, daemon's, import's
// and adopt's own were handled above).
if OuterCommandLine.asks("--version", arguments) {
    StandardStream.write(VersionText.text(), to: 1)
    exit(0)
}
if OuterCommandLine.asks("--help", arguments) || arguments.first == "-h" {
    StandardStream.write(HelpText.text(), to: 1)
    exit(0)
}
// With --json, a failure is one JSON object on standard error (see ErrorOutput).
errors.holds = OuterCommandLine.wantsJSON(arguments)
if let quick = QuickPath.parse(arguments) {
    do {
        errors.finish(Session.front(try quick.settings.sessionOptions()).runCommandLine(quick.words))
    } catch {
        errors.write(error.message + "\n")
        errors.finish(error.code.rawValue)
    }
}
// The full parser. Its errors are lvsh's usage errors (exit 2), not swift-argument-parser's (64).
var outer: OuterOptions
do {
    outer = try OuterOptions.parse(arguments)
} catch {
    Usage.exit(error, arguments: arguments, report: report)
}
do {
    try outer.run()
    errors.finish(0)
} catch let code as ExitCode {
    errors.finish(code.rawValue)
} catch {
    Usage.exit(error, arguments: arguments, report: report)
}
