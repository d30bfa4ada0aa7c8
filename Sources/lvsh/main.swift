#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import IPVS
import LVSModel
import Shell

// `lvsh ipvsadm ARG...` hands every later argument to the ipvsadm translator untouched, so it is
// split off before the outer parser could read ipvsadm's options as its own.
let arguments = Array(CommandLine.arguments.dropFirst())
// The detached process of `apply --confirm` (see RollbackWaiter).
if arguments.first == RollbackWaiter.command, arguments.count == 3 {
    exit(RollbackWaiter.run(dir: arguments[1], seconds: Int(arguments[2]) ?? 0, session: Session.standard()))
}
if let split = OuterCommandLine.ipvsadmSplit(arguments) {
    var options = SessionOptions()
    if !split.globals.isEmpty {
        do {
            let outer = try OuterOptions.parse(split.globals)
            options = SessionOptions(json: outer.json, dryRun: outer.dryRun, backend: outer.backend)
        } catch {
            OuterOptions.exit(withError: error)
        }
    }
    exit(Session.standard(options).runIPVSAdm(split.ipvsadmArguments))
}
if let quick = QuickPath.parse(arguments) {
    do {
        exit(Session.standard(try quick.settings.sessionOptions()).runWords(quick.words))
    } catch {
        StandardStream.write(error.message + "\n", to: 2)
        exit(error.code.rawValue)
    }
}
OuterOptions.main(arguments)
