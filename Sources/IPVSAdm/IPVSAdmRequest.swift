import LVSModel

/// What an ipvsadm command asks for: kernel operations, a listing, or help.
public enum IPVSAdmRequest: Hashable, Sendable {
    /// Operations to run in the kernel, in order.
    case apply([IPVSOperation])
    /// `-L`: the version header and every service.
    case listAll(IPVSAdmCommand.ListFormat)
    /// `-L -t ...`: one service, without the version header.
    case listService(ServiceKey, IPVSAdmCommand.ListFormat)
    /// `-L -c`: the connection table.
    case listConnections(IPVSAdmCommand.ListFormat)
    /// `-L --timeout`.
    case listTimeouts
    /// `-L --daemon`.
    case listDaemons
    /// `-S`: the table as ipvsadm commands.
    case save(IPVSAdmCommand.ListFormat)
    /// `-R`: commands from standard input.
    case restore
    case help
    case version
}

extension IPVSAdmCommand {
    /// The request this command makes; a parsed command always translates.
    public var request: IPVSAdmRequest {
        switch command {
        case .help: return .help
        case .version: return .version
        case .restore: return .restore
        case .save: return .save(format)
        case .list:
            if has(.connection) { return .listConnections(format) }
            if let service { return .listService(service, format) }
            if has(.timeout) { return .listTimeouts }
            if has(.daemon) { return .listDaemons }
            return .listAll(format)
        default:
            return .apply(operations)
        }
    }

    /// The kernel operations of a state-changing command (none for the others).
    public var operations: [IPVSOperation] {
        switch command {
        case .addService: return virtualService.map { [.addService($0)] } ?? []
        case .editService: return virtualService.map { [.editService($0)] } ?? []
        case .deleteService: return service.map { [.deleteService($0)] } ?? []
        case .flush: return [.flush]
        case .addServer:
            guard let service, let realServer else { return [] }
            return [.addRealServer(service, realServer)]
        case .editServer:
            guard let service, let realServer else { return [] }
            return [.editRealServer(service, realServer)]
        case .deleteServer:
            guard let service, let realServer else { return [] }
            return [.deleteRealServer(service, realServer.identity)]
        case .zero:
            // libipvs zeroes everything when the service is all zeros (e.g. -Z -t 0.0.0.0:0).
            guard let service, !(service.port == 0 && !service.isFirewallMark && service.address.isZero) else { return [.zero(nil)] }
            return [.zero(service)]
        case .setTimeouts: return timeouts.map { [.setTimeouts($0)] } ?? []
        case .startDaemon: return daemon.map { [.startDaemon($0)] } ?? []
        case .stopDaemon: return daemon.map { [.stopDaemon($0.role)] } ?? []
        case .list, .save, .restore, .help, .version: return []
        }
    }
}
