import Firewall
import IPVS
import LVSModel

/// What the interactive console (module Console) needs from a session: it lives outside Shell so that
/// Shell does not link libedit, and the kernel handles it reads through are internal to Shell.
extension Session {
    /// The firewall-mark backend's short name for the prompt: "nft" or "iptables"; nil when none works.
    public var backendName: String? {
        switch try? marks() {
        case is NFTablesBackend: "nft"
        case is IPTablesBackend: "iptables"
        default: options.backend
        }
    }

    /// The port groups as the kernel holds them, for completion; none when they cannot be read.
    public func groupsForCompletion() -> [PortGroup] {
        (try? marks().groups()) ?? []
    }

    /// The IPVS services with their real servers, for completion; none without IPVS.
    public func servicesForCompletion() -> [ServiceStatus] {
        (try? control.table(.listing).services) ?? []
    }

    /// One line typed at the console, run as a batch of its own. `quit` says whether it asked to leave.
    public func runConsoleLine(_ line: String) -> (code: Int32, quit: Bool) {
        do {
            let commands = try Tokenizer.commands(in: line, file: "console")
            // `quit` (or `q`, `exit`) leaves after the commands before it on the line have run.
            guard let stop = commands.firstIndex(where: Self.isQuit) else { return (runInputs(commands, file: "console"), false) }
            return (stop == 0 ? 0 : runInputs(Array(commands[..<stop]), file: "console"), true)
        } catch {
            err(error.message + "\n")
            return (error.code.rawValue, false)
        }
    }

    private static func isQuit(_ input: CommandInput) -> Bool {
        guard case .success(let (command, _)) = Catalog.table.parse(input.words), case .quit = command.handler else { return false }
        return true
    }
}
