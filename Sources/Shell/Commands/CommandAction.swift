import Engine
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
    /// Changes the console session itself at its place in the batch (`set pager`); returns what to print.
    case session(@Sendable (Bindings, Session) throws(LVSError) -> String)
    case help
    case quit
}

/// A file a command writes after the commit, and what to say when it is written.
public struct FileWrite: Sendable {
    public var path: String
    public var contents: String
    public var done: String
}

/// One command of lvsh's language.
public typealias Command = CommandSpec<CommandAction>
