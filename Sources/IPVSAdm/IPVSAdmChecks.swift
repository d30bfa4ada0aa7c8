import LVSModel
import Listings

/// ipvsadm's checks after option parsing (`generic_opt_check`, the service,
/// real-server and tunnel checks of `process_options`), then the final command.
extension Draft {
    /// The service key from -t/-u/--sctp-service or -f (with -6).
    var serviceKey: ServiceKey? {
        if firewallMark != 0 { return .fwmark(firewallMark, family ?? .v4) }
        guard let address, let proto else { return nil }
        return .inet(proto, address, port)
    }

    func finish() throws(LVSError) -> IPVSAdmCommand {
        try checkCommandOptions()
        var result = IPVSAdmCommand(command: command)
        result.optionBits = options
        result.format = format
        result.service = serviceKey
        switch command {
        case .addService, .editService:
            guard let key = serviceKey else { break }
            if !key.isFirewallMark && key.port == 0 && !flags.contains(.persistent) {
                throw .badInput("\(key.ipvsadmArgument): port 0 means every port, which IPVS allows only for persistent services; "
                    + "give a port (e.g. :80) or make the service persistent with -p [TIMEOUT]")
            }
            if flags.contains(.onePacket) && !key.isFirewallMark && key.l4Protocol != .udp {
                throw .badInput("-o (one-packet scheduling) works only for UDP and fwmark services, not for \(key.ipvsadmArgument)")
            }
            if has(.netmask) && !flags.contains(.persistent) {
                result.warnings.append("-M has no effect without -p: the netmask groups clients only for persistence")
            }
            if !persistenceEngine.isEmpty && !flags.contains(.persistent) {
                result.warnings.append("--pe \(persistenceEngine) has no effect without -p: persistence engines work on persistent services")
            }
            result.virtualService = VirtualService(
                key: key, scheduler: scheduler.isEmpty ? Schedulers.default : scheduler, flags: flags,
                timeout: timeout, netmask: netmask, persistenceEngine: persistenceEngine.isEmpty ? nil : persistenceEngine)
        case .addServer, .editServer:
            guard let key = serviceKey, var destination = destinationAddress.map({ RealServer(address: $0, port: destinationPort) }) else { break }
            // IPVS cannot rewrite the port of DR or TUN traffic, so ipvsadm silently uses the service's.
            if !key.isFirewallMark && (forwarding == .tunnel || forwarding == .route) {
                if destination.port != key.port && destinationPort != 0 {
                    result.warnings.append("-r \(IPVSAdmFormat.endpoint(destination.address, destination.port)): "
                        + "\(forwarding == .route ? "direct routing" : "tunneling") cannot change the port, so the real server "
                        + "gets the service's port \(key.port) (use -m, NAT, to map ports)")
                }
                destination.port = key.port
            }
            if destination.address.family != key.family && forwarding != .tunnel {
                throw .badInput("-r \(destination.address): the real server is \(destination.address.family) but the service is \(key.family); "
                    + "mixing address families works only with tunneling (-i)")
            }
            let tunnelOptions: [IPVSAdmCommand.Option] = [.tunnelType, .tunnelPort, .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum]
            if forwarding != .tunnel, let given = tunnelOptions.first(where: has) {
                throw .badInput("\(given.spelling) applies only to tunneling real servers; add -i, or drop the tunnel options")
            }
            try checkTunnelOptions()
            destination.forwarding = forwarding
            destination.weight = weight
            destination.upperThreshold = upperThreshold
            destination.lowerThreshold = lowerThreshold
            destination.tunnelType = tunnelKind.tunnelType
            destination.tunnelPort = tunnelPort
            destination.tunnelFlags = TunnelFlags(rawValue: tunnelFlags)
            result.realServer = destination
        case .deleteServer:
            // -d identifies the real server by address and port only; no port rewriting here.
            result.realServer = destinationAddress.map { RealServer(address: $0, port: destinationPort) }
        case .startDaemon:
            result.daemon = SyncDaemon(role: role, interface: interface.isEmpty ? "eth0" : interface, syncID: syncID,
                                       maxLength: maxLength, group: group, port: mcastPort, ttl: ttl)
        case .stopDaemon:
            result.daemon = SyncDaemon(role: role, interface: interface, syncID: syncID)
        case .setTimeouts:
            result.timeouts = timeouts
        case .list:
            try checkListOptions()
        default:
            break
        }
        return result
    }

    /// ipvsadm's `generic_opt_check`, walking its table in column order.
    private func checkCommandOptions() throws(LVSError) {
        var exclusive: IPVSAdmCommand.Option?
        let row = IPVSAdmOptionTable.rules(for: command)
        for column in row.indices {
            let rule = row[column]
            guard options >> UInt64(column) & 1 != 0 else {
                if rule == UInt8(ascii: "+") { throw .badInput(Self.missingMessage(IPVSAdmCommand.Option(rawValue: column)!, command)) }
                continue
            }
            let option = IPVSAdmCommand.Option(rawValue: column)!
            if rule == UInt8(ascii: "x") { throw .badInput(Self.illegalMessage(option, command)) }
            if rule == UInt8(ascii: "1") {
                if let first = exclusive {
                    throw .badInput("\(option.label) conflicts with \(first.label) in \(command.label): "
                        + "list either the connections (-c), one service, the timeouts (--timeout) or the daemons (--daemon)")
                }
                exclusive = option
            }
        }
    }

    private static func missingMessage(_ option: IPVSAdmCommand.Option, _ command: IPVSAdmCommand.Command) -> String {
        switch option {
        case .service:
            "\(command.label) needs a virtual service: -t ADDRESS:PORT, -u ADDRESS:PORT, --sctp-service ADDRESS:PORT or -f MARK"
        case .realServer:
            "\(command.label) needs a real server: -r ADDRESS[:PORT]"
        default:
            "\(command.label) needs \(option.label)"
        }
    }

    private static func illegalMessage(_ option: IPVSAdmCommand.Option, _ command: IPVSAdmCommand.Command) -> String {
        let base = "\(option.label) cannot be used with \(command.label)"
        let serviceSettings: Set<IPVSAdmCommand.Option> = [.scheduler, .persistent, .netmask, .onePacket, .persistenceEngine, .schedulerFlags]
        let serverSettings: Set<IPVSAdmCommand.Option> = [.realServer, .forwarding, .weight, .upperThreshold, .lowerThreshold,
                                                          .tunnelType, .tunnelPort, .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum]
        let listing: Set<IPVSAdmCommand.Option> = [.numeric, .connection, .timeout, .daemon, .stats, .rate, .thresholds,
                                                   .persistentConnections, .noSort, .exact, .tunnelInfo]
        let daemonSettings: Set<IPVSAdmCommand.Option> = [.mcastInterface, .syncID, .mcastGroup, .mcastPort, .mcastTTL, .syncMaxLength]
        if serviceSettings.contains(option) && [.addServer, .editServer].contains(command) {
            return base + ": it is a setting of the virtual service; change it with -E"
        }
        if serverSettings.contains(option) && [.addService, .editService].contains(command) {
            return base + ": it is a setting of a real server; give it with -a or -e"
        }
        if option == .service && [.flush, .save, .setTimeouts, .restore].contains(command) {
            return base + ": \(command.spelling) works on the whole table"
        }
        if listing.contains(option) && command != .list {
            return base + ": it changes what -L prints"
        }
        if daemonSettings.contains(option) {
            return base + ": it is a sync-daemon setting for --start-daemon"
        }
        if command == .deleteServer || command == .deleteService {
            return base + ": deleting needs only the service" + (command == .deleteServer ? " and -r ADDRESS[:PORT]" : "")
        }
        return base
    }

    /// ipvsadm's `tunnel_opt_check` for the tunnel type given (ipip by default).
    private func checkTunnelOptions() throws(LVSError) {
        var exclusive: IPVSAdmCommand.Option?
        for (column, option) in IPVSAdmOptionTable.tunnelColumns.enumerated() {
            let rule = IPVSAdmOptionTable.tunnelRule(tunnelKind, column: column)
            if !has(option) {
                if rule == UInt8(ascii: "+") {
                    throw .badInput("--tun-type \(tunnelKind.rawValue) needs \(option.spelling) PORT (the UDP port the real server decapsulates on)")
                }
                continue
            }
            if rule == UInt8(ascii: "x") {
                let allowed = tunnelKind == .ipip ? "ipip takes no tunnel options (use --tun-type gue or gre)"
                    : tunnelKind == .gre ? "gre takes only --tun-nocsum or --tun-csum" : ""
                throw .badInput("\(option.spelling) cannot be used with --tun-type \(tunnelKind.rawValue): \(allowed)")
            }
            if rule == UInt8(ascii: "1") {
                if let first = exclusive {
                    throw .badInput("\(option.spelling) conflicts with \(first.spelling): give one checksum option")
                }
                exclusive = option
            }
        }
    }

    /// ipvsadm's "options conflicts in the list command".
    private func checkListOptions() throws(LVSError) {
        let what: [IPVSAdmCommand.Option] = [.connection, .timeout, .daemon].filter(has)
        let counters: [IPVSAdmCommand.Option] = [.stats, .rate, .thresholds].filter(has)
        if let a = what.first, let b = counters.first {
            throw .badInput("\(b.label) cannot be combined with \(a.label): counters and thresholds belong to the service listing")
        }
        if let a = [.timeout, .daemon].first(where: has), has(.persistentConnections) {
            throw .badInput("--persistent-conn cannot be combined with \(a.label): it belongs to the service and connection listings")
        }
    }
}
