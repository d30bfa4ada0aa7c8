import Firewall
import IPVS
import LVSModel

/// What running a command does. Changes only touch the candidate state; the session plans the batch
/// and the executor writes it. Shows read the kernel and return text.
public enum CommandAction: Sendable {
    case change(@Sendable (Bindings, inout Candidate) throws(LVSError) -> Void)
    case show(@Sendable (Bindings, ShowContext) throws(LVSError) -> String)
    /// Acts on this host or on lvsh itself, right away (settings, files, real-server preparation).
    case local(@Sendable (Bindings, Session) throws(LVSError) -> String)
    /// An ipvsadm command line: a change when it changes the table, a show otherwise.
    case ipvsadm
    case help
    case quit
}

/// What show commands read from: the kernel, lazily, and how to print.
public struct ShowContext {
    public var ipvs: () throws(LVSError) -> any IPVSControl
    public var marks: () throws(LVSError) -> any MarkBackend
    public var connections: () throws(LVSError) -> [Connection]
    /// JSON instead of text (`json` keyword or --json).
    public var json: Bool

    public init(ipvs: @escaping () throws(LVSError) -> any IPVSControl,
                marks: @escaping () throws(LVSError) -> any MarkBackend,
                connections: @escaping () throws(LVSError) -> [Connection], json: Bool) {
        self.ipvs = ipvs
        self.marks = marks
        self.connections = connections
        self.json = json
    }
}

/// One command of lvsh's language.
public typealias Command = CommandSpec<CommandAction>
