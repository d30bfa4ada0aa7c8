import Firewall
import IPVS
import LVSModel

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
    /// The daemon's part of the state shown (checks, maintenance); empty without a daemon.
    public var health = HealthConfig()
    /// Every checked real server's health, from the running daemon; nil where no daemon answers.
    public var healthStatus: (() -> [RealHealthStatus])?

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
