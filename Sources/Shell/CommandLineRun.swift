#if canImport(Glibc)
import Glibc
#endif
import IPVS
import System
import LVSModel

/// The executable's faces — `lvsh WORD...`, `-c`, `-f`, standard input — on the batch engine: columns
/// in the echoed command line, and a clear refusal without root before anything is tried.
extension Session {
    /// `lvsh WORD...`: one command, its errors located in the command line as echoed (column and caret
    /// under the word at fault).
    public func runCommandLine(_ words: [String]) -> Int32 {
        runInputs([CommandInput.commandLine(words)], file: "command line")
    }

    /// `lvsh -c TEXT`, or a batch's text: every command parsed and checked before the first change.
    public func runBatch(_ text: String, name: String) -> Int32 {
        do {
            return runInputs(try Tokenizer.commands(in: text, file: name), file: name)
        } catch {
            err(error.message + "\n")
            return error.code.rawValue
        }
    }

    /// `lvsh -f FILE` (standard input for "-").
    public func runBatchFile(_ path: String) -> Int32 {
        do throws(LVSError) {
            return runBatch(try Self.readInput(path), name: path == "-" ? "<stdin>" : path)
        } catch {
            err("lvsh: " + error.message + "\n")
            return error.code.rawValue
        }
    }

    /// Runs commands as one batch, up to a `quit` or `exit` (BatchInput.untilQuit); without
    /// CAP_NET_ADMIN, refuses those that need the kernel.
    func runInputs(_ commands: [CommandInput], file: String) -> Int32 {
        let commands = BatchInput.untilQuit(commands)
        if needsPrivilege && !Privilege.hasNetAdmin() && Privilege.needsKernel(commands, ipvsadm: options.ipvsadm) {
            err(Privilege.message + "\n")
            return LVSError.Code.failed.rawValue
        }
        return run(commands, file: file)
    }
}
