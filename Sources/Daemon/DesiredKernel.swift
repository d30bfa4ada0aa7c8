import Engine
import Firewall
import IPVS
import LVSModel
import System

/// The daemon's desired state dressed as a kernel: a front's batch runs against it (the same parser,
/// candidate and refusals as anywhere), and what it commits becomes the new desired state, which the
/// daemon then applies to the real kernel through its health overlay. IPVS's rules come from
/// IPVSStateModel; groups from GroupChange's rules; sysctls not in the state are read from the host.
final class DesiredKernel: IPVSControl, MarkBackend {
    private var model: IPVSStateModel
    private var groupList: [PortGroup]
    private(set) var sysctls: [String: String]
    private let kernelInfo: IPVSInfo
    private let timeoutsSet: Bool
    let name: String

    init(_ state: ManagedState, info: IPVSInfo, backendName: String) {
        model = IPVSStateModel(table: IPVSTable(services: state.services), daemons: state.daemons,
                               timeouts: state.timeouts ?? .kernelDefault)
        groupList = state.groups
        sysctls = state.sysctls
        kernelInfo = info
        timeoutsSet = state.timeouts != nil
        name = backendName
    }

    /// The state after the batch; `health` is the session's.
    func state(health: HealthConfig, before: ManagedState) -> ManagedState {
        var s = ManagedState()
        s.services = model.table.services
        s.groups = groupList.sorted { $0.name < $1.name }
        s.daemons = model.daemons
        s.timeouts = timeoutsSet || model.timeouts != (before.timeouts ?? .kernelDefault) ? model.timeouts : nil
        s.sysctls = sysctls
        s.health = health
        return s
    }

    // MARK: IPVSControl

    func info() throws(LVSError) -> IPVSInfo { kernelInfo }
    func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable { model.table }
    func timeouts() throws(LVSError) -> Timeouts { model.timeouts }
    func daemons() throws(LVSError) -> [SyncDaemon] { model.daemons }

    func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        operations.map { op in model.apply(op).map { IPVSFailure(operation: op, errno: $0) } }
    }

    // MARK: MarkBackend

    func groups() throws(LVSError) -> [PortGroup] { groupList }

    func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange] {
        let changes = try plan(groupList)
        groupList = try GroupChange.apply(changes, to: groupList).groups
        return changes
    }

    func rulesText() throws(LVSError) -> String {
        "lvsh daemon keeps the desired groups; the kernel's rules are shown by `lvsh show rules` without a batch that changes them\n"
    }

    // MARK: sysctls

    func readSysctl(_ name: String) -> String? { sysctls[name] ?? ProcSysctl.read(name) }

    func writeSysctl(_ name: String, _ value: String) throws(LVSError) { sysctls[name] = value }
}
