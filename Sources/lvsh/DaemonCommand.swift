import ArgumentParser
import Daemon
import Shell

/// `lvsh daemon [FILE]`: the controller in the foreground, for systemd (Type=notify).
struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsh daemon",
        abstract: "Keep the kernel matching FILE: apply it, run its health checks, repair drift, reload on SIGHUP.",
        discussion: """
            Runs in the foreground and logs to standard error (journald reads the priorities). SIGHUP reads \
            FILE again and applies the difference (real servers that leave are drained); SIGTERM stops the \
            daemon and leaves the kernel as it is. One daemon per network namespace.
            """
    )

    @Option(name: .customLong("backend"), help: OuterOptions.help("--backend"))
    var backend: String?

    @Option(name: .customLong("config"), help: OuterOptions.help("--config"))
    var config: String?

    @Argument(help: "The configuration to keep.")
    var file = "/etc/lvsh/running.lvsh"

    func validate() throws {
        if let backend, !["nft", "iptables"].contains(backend) {
            throw ValidationError("--backend must be nft or iptables, not '\(backend)'")
        }
    }

    func run() throws {
        let options: SessionOptions
        do {
            options = try OuterSettings(backend: backend, config: config).sessionOptions()
        } catch {
            ErrorOutput.shared.write(error.message + "\n")
            throw ExitCode(error.code.rawValue)
        }
        let code = DaemonService.runBlocking(file: file, session: Session.lvsh(options))
        if code != 0 { throw ExitCode(code) }
    }
}
