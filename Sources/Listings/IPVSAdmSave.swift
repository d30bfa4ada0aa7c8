import LVSModel

/// `ipvsadm -S -n`: the table as ipvsadm commands, byte for byte, which `-R` reads back.
///
/// Without -n ipvsadm writes host and port names; lvsh always writes numbers.
public enum IPVSAdmSave {
    public static func rules(_ table: IPVSTable) -> String {
        IPVSAdmOutput.text { write(table, to: &$0) }
    }

    /// `rules(_:)`, handed to `out` in chunks of whole lines as it is made.
    public static func rules(_ table: IPVSTable, out: (String) -> Void) {
        withoutActuallyEscaping(out) { out in
            var o = IPVSAdmOutput(flush: out)
            write(table, to: &o)
            o.finish()
        }
    }

    private static func write(_ table: IPVSTable, to o: inout IPVSAdmOutput) {
        // The service's argument, made once a service and copied into each of its lines.
        var name = IPVSAdmOutput()
        for i in IPVSAdmSorting.serviceOrder(table.services) {
            let status = table.services[i]
            let s = status.service
            name.removeAll()
            argument(s.key, to: &name)
            o.append("-A ")
            o.append(name)
            o.append(" -s ")
            o.append(string: s.scheduler)
            if s.isPersistent {
                o.append(" -p ")
                o.decimal(UInt64(s.timeout))
                if let mask = IPVSAdmListing.netmaskText(s) {
                    o.append(" -M ")
                    o.append(string: mask)
                }
            }
            if let pe = s.persistenceEngine, !pe.isEmpty {
                o.append(" --pe ")
                o.append(string: pe)
            }
            if s.flags.contains(.onePacket) { o.append(" -o") }
            // ipvsadm writes "-b " even when the scheduler has no name for the flags set.
            if !s.flags.isDisjoint(with: IPVSAdmListing.schedulerFlagMask) {
                o.append(" -b ")
                o.append(string: IPVSAdmListing.schedulerFlags(s))
            }
            o.newline()
            IPVSAdmSorting.withRealServerOrder(status.realServers) { order in
                for j in order {
                    addServerRule(serviceArgument: name, status.realServers[j].server, to: &o)
                    o.newline()
                }
            }
        }
    }

    /// The service as -S writes it: ipvsadm prints the mark with "%d", so marks above
    /// 2^31 come out negative (and its own -R cannot read them back).
    static func argument(_ key: ServiceKey) -> String {
        IPVSAdmOutput.text { argument(key, to: &$0) }
    }

    static func argument(_ key: ServiceKey, to o: inout IPVSAdmOutput) {
        guard case .fwmark(let mark, let family) = key else { return o.append(string: key.ipvsadmArgument) }
        o.append("-f ")
        o.decimal(Int64(Int32(bitPattern: mark)))
        if family == .v6 { o.append(" -6") }
    }

    /// One `-a` line, as ipvsadm writes it and as lvsh suggests it in messages.
    public static func addServerRule(serviceArgument: String, _ r: RealServer) -> String {
        IPVSAdmOutput.text { o in
            var name = IPVSAdmOutput()
            name.append(string: serviceArgument)
            addServerRule(serviceArgument: name, r, to: &o)
        }
    }

    static func addServerRule(serviceArgument: IPVSAdmOutput, _ r: RealServer, to o: inout IPVSAdmOutput) {
        o.append("-a ")
        o.append(serviceArgument)
        o.append(" -r ")
        o.endpoint(r.address, r.port)
        o.append(" ")
        o.append(forwardingSwitch(r.forwarding))
        o.append(" -w ")
        o.decimal(Int64(r.weight))
        if r.forwarding == .tunnel {
            o.append(" --tun-type ")
            o.append(string: r.tunnelType.name)
            switch r.tunnelType {
            case .ipip:
                break
            case .gue:
                o.append(" --tun-port ")
                o.decimal(UInt64(r.tunnelPort))
                o.append(" ")
                o.append(checksumOption(r.tunnelFlags))
            case .gre:
                o.append(" ")
                o.append(checksumOption(r.tunnelFlags))
            }
        }
    }

    /// ipvsadm's `fwd_switch`; local-node destinations are written as -g, bypass has none.
    static func forwardingSwitch(_ f: ForwardingMethod) -> StaticString {
        switch f {
        case .masquerade: "-m"
        case .tunnel: "-i"
        case .route, .local: "-g"
        case .bypass: "(null)"
        }
    }

    static func checksumOption(_ flags: TunnelFlags) -> StaticString {
        flags.contains(.remoteChecksum) ? "--tun-remcsum" : flags.contains(.checksum) ? "--tun-csum" : "--tun-nocsum"
    }
}
