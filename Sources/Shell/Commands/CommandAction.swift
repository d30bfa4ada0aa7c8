import Firewall
import IPVS
import LVSModel

/// What running a command does. A batch is one transaction: changes only touch the candidate state,
/// shows read the state as the batch has it at their place, files are written after the one commit,
/// and commands that work on the whole state run alone.
public enum CommandAction: Sendable {
    case change(@Sendable (Bindings, inout Candidate) throws(LVSError) -> Void)
    case show(@Sendable (Bindings, ShowContext) throws(LVSError) -> String)
    /// Writes a file once the batch's kernel changes are committed (`save`, `set`); the contents are
    /// made and checked at the command's place, so a bad one refuses the batch before anything is applied.
    case write(@Sendable (Bindings, ShowContext, SessionOptions) throws(LVSError) -> FileWrite)
    /// `load FILE`: the file's commands join the batch where the command stands.
    case include
    /// Works on the whole state or on this host outside the transaction (`apply`, `confirm`,
    /// `show diff`, `realserver prepare`): runs only as a batch of its own.
    case alone(@Sendable (Bindings, Session) throws(LVSError) -> Int32)
    /// An ipvsadm command line: a change when it changes the table, a show otherwise.
    case ipvsadm
    case help
    case quit
}

/// A file a command writes after the commit, and what to say when it is written.
public struct FileWrite: Sendable {
    public var path: String
    public var contents: String
    public var done: String
}

/// What show commands read from: the kernel (or, after changes in the same batch, the candidate),
/// lazily, and how to print.
public struct ShowContext {
    public var ipvs: () throws(LVSError) -> any IPVSControl
    public var marks: () throws(LVSError) -> any MarkBackend
    public var connections: () throws(LVSError) -> [Connection]
    /// JSON instead of text (`json` keyword or --json).
    public var json: Bool
    /// A sysctl's value as the state shown has it.
    public var sysctl: (String) -> String?

    public init(ipvs: @escaping () throws(LVSError) -> any IPVSControl,
                marks: @escaping () throws(LVSError) -> any MarkBackend,
                connections: @escaping () throws(LVSError) -> [Connection], json: Bool,
                sysctl: @escaping (String) -> String? = { _ in nil }) {
        self.ipvs = ipvs
        self.marks = marks
        self.connections = connections
        self.json = json
        self.sysctl = sysctl
    }
}

/// One command of lvsh's language.
public typealias Command = CommandSpec<CommandAction>
