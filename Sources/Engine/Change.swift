import Firewall
import LVSModel

/// One kernel write of a plan: an IPVS operation, a port-group change, or a sysctl.
public enum Step: Hashable, Sendable {
    case ipvs(IPVSOperation)
    case groups(GroupChange)
    case sysctl(name: String, value: String)

    /// The family of writes that one executor call can carry together.
    var lane: Int {
        switch self {
        case .ipvs: 0
        case .groups: 1
        case .sysctl: 2
        }
    }
}

/// Where a command came from, for messages: file, line and column.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A step with what undoes it (computed from the state just before it) and what it means to a reader.
public struct PlannedChange: Hashable, Sendable {
    public var step: Step
    /// Steps that restore the state before `step`, in order.
    public var undo: [Step]
    /// "add service TCP 192.168.61.129:80 scheduler rr".
    public var summary: String
    public var location: SourceLocation?

    package init(step: Step, undo: [Step], summary: String, location: SourceLocation?) {
        self.step = step
        self.undo = undo
        self.summary = summary
        self.location = location
    }
}
