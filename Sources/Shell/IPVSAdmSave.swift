import LVSModel

/// `ipvsadm -S -n`: the table as ipvsadm commands, byte for byte, which `-R` reads back.
///
/// Without -n ipvsadm writes host and port names; lvsh always writes numbers.
public enum IPVSAdmSave {
    public static func rules(_ table: IPVSTable) -> String {
        var out = ""
        for status in IPVSAdmSorting.services(table.services) {
            let s = status.service
            let name = argument(s.key)
            out += "-A \(name) -s \(s.scheduler)"
            if s.isPersistent {
                out += " -p \(s.timeout)"
                if let mask = IPVSAdmListing.netmaskText(s) { out += " -M " + mask }
            }
            if let pe = s.persistenceEngine, !pe.isEmpty { out += " --pe " + pe }
            if s.flags.contains(.onePacket) { out += " -o" }
            // ipvsadm writes "-b " even when the scheduler has no name for the flags set.
            if !s.flags.isDisjoint(with: IPVSAdmListing.schedulerFlagMask) { out += " -b " + IPVSAdmListing.schedulerFlags(s) }
            out += "\n"
            for r in IPVSAdmSorting.realServers(status.realServers) {
                out += addServerRule(serviceArgument: name, r.server) + "\n"
            }
        }
        return out
    }

    /// The service as -S writes it: ipvsadm prints the mark with "%d", so marks above
    /// 2^31 come out negative (and its own -R cannot read them back).
    static func argument(_ key: ServiceKey) -> String {
        guard case .fwmark(let mark, let family) = key else { return key.ipvsadmArgument }
        return "-f \(Int32(bitPattern: mark))" + (family == .v6 ? " -6" : "")
    }

    /// One `-a` line, as ipvsadm writes it and as lvsh suggests it in messages.
    public static func addServerRule(serviceArgument: String, _ r: RealServer) -> String {
        var line = "-a \(serviceArgument) -r \(IPVSAdmFormat.endpoint(r.address, r.port)) \(forwardingSwitch(r.forwarding)) -w \(r.weight)"
        if r.forwarding == .tunnel {
            line += " --tun-type " + r.tunnelType.name
            switch r.tunnelType {
            case .ipip: break
            case .gue: line += " --tun-port \(r.tunnelPort) " + checksumOption(r.tunnelFlags)
            case .gre: line += " " + checksumOption(r.tunnelFlags)
            }
        }
        return line
    }

    /// ipvsadm's `fwd_switch`; local-node destinations are written as -g, bypass has none.
    static func forwardingSwitch(_ f: ForwardingMethod) -> String {
        switch f {
        case .masquerade: "-m"
        case .tunnel: "-i"
        case .route, .local: "-g"
        case .bypass: "(null)"
        }
    }

    static func checksumOption(_ flags: TunnelFlags) -> String {
        flags.contains(.remoteChecksum) ? "--tun-remcsum" : flags.contains(.checksum) ? "--tun-csum" : "--tun-nocsum"
    }
}
