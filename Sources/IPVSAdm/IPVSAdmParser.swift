import LVSModel

/// Parses ipvsadm 1.31 command lines: accepts and rejects exactly what ipvsadm does,
/// with messages that name the offending option and say what to do.
public enum IPVSAdmParser {
    /// ipvsadm's MAX_TIMEOUT: 31 days.
    static let maxTimeout: Int64 = 86400 * 31

    /// Parses the words after `ipvsadm`. An empty list means `-L` (without -n), as for ipvsadm.
    public static func parse(_ args: [String]) throws(LVSError) -> IPVSAdmCommand {
        if args.isEmpty { return IPVSAdmCommand(command: .list) }
        var scanner = PoptScanner(args)
        // ipvsadm reads the command from the first option and rejects anything else there.
        guard let first = try scanner.nextItem() else {
            throw .badInput("no command given; an ipvsadm command line starts with a command such as -A, -a, -L or -S (see 'ipvsadm -h')")
        }
        guard case .command(let command) = first.tag else {
            throw .badInput("\(first.written) cannot come first: ipvsadm wants the command first, "
                + "e.g. 'ipvsadm -A \(first.written) ...'; the commands are -A -E -D -C -R -S -a -e -d -L -Z --set --start-daemon --stop-daemon -h -v")
        }
        var draft = Draft(command: command)
        switch command {
        case .help, .version:
            // ipvsadm prints and exits at once, whatever follows.
            return IPVSAdmCommand(command: command)
        case .startDaemon, .stopDaemon:
            draft.role = try role(first.value ?? "", option: first.written)
        default:
            break
        }
        while let item = try scanner.nextItem() {
            try draft.apply(item, firstCommand: command)
        }
        var leftovers = scanner.leftovers[...]
        if command == .setTimeouts {
            guard leftovers.count >= 3 else {
                throw .badInput("--set needs three timeouts in seconds: tcp tcpfin udp (0 keeps a value), e.g. --set 900 120 300")
            }
            let names = ["tcp", "tcpfin", "udp"]
            var values: [UInt32] = []
            for (name, text) in zip(names, leftovers.prefix(3)) {
                values.append(try IPVSAdmValueParsing.timeout(text, in: 0...maxTimeout, option: "--set (\(name))"))
            }
            draft.timeouts = Timeouts(tcp: values[0], tcpFin: values[1], udp: values[2])
            leftovers = leftovers.dropFirst(3)
        }
        if let extra = leftovers.first {
            throw .badInput("unexpected argument '\(extra)': every value belongs to an option (e.g. -t ADDRESS:PORT)"
                + (command == .setTimeouts ? "; --set takes exactly three timeouts" : ""))
        }
        if !draft.schedulerFlagsText.isEmpty {
            draft.flags.subtract([.schedulerFlag1, .schedulerFlag2, .schedulerFlag3])
            draft.flags.formUnion(try IPVSAdmValueParsing.schedulerFlags(draft.schedulerFlagsText, scheduler: draft.scheduler))
        }
        return try draft.finish()
    }

    private static func role(_ text: String, option: String) throws(LVSError) -> SyncRole {
        switch text {
        case "master": return .master
        case "backup": return .backup
        default: throw .badInput("\(option) \(text): the daemon role is 'master' or 'backup'")
        }
    }
}

/// The command being assembled, field for field like ipvsadm's `ipvs_command_entry`.
struct Draft {
    var command: IPVSAdmCommand.Command
    /// The options given, one bit each (`IPVSAdmCommand.Option.bit`).
    var options: UInt64 = 0
    // The virtual service.
    var family: IPAddress.Family?
    var proto: L4Protocol?
    var address: IPAddress?
    var port: UInt16 = 0
    var firewallMark: UInt32 = 0
    var scheduler = ""
    var flags: ServiceFlags = []
    var timeout: UInt32 = 0
    /// ipvsadm starts with a host mask; an IPv6 service (or -6) resets it to 128.
    var netmask: UInt32 = 0xffff_ffff
    var persistenceEngine = ""
    var schedulerFlagsText = ""
    // The real server.
    var destinationAddress: IPAddress?
    var destinationPort: UInt16 = 0
    var forwarding: ForwardingMethod = .route
    var weight: Int32 = 1
    var upperThreshold: UInt32 = 0
    var lowerThreshold: UInt32 = 0
    var tunnelKind: IPVSAdmOptionTable.TunnelKind = .ipip
    var tunnelPort: UInt16 = 0
    var tunnelFlags: UInt16 = 0
    // Listing, timeouts, daemons.
    var format: IPVSAdmCommand.ListFormat = []
    var timeouts: Timeouts?
    var role: SyncRole = .master
    var interface = ""
    var syncID: UInt8 = 0
    var maxLength: UInt16 = 0
    var group: IPAddress?
    var mcastPort: UInt16 = 0
    var ttl: UInt8 = 0

    init(command: IPVSAdmCommand.Command) {
        self.command = command
    }

    func has(_ option: IPVSAdmCommand.Option) -> Bool { options & option.bit != 0 }

    /// ipvsadm's `set_option`: each option at most once.
    mutating func set(_ option: IPVSAdmCommand.Option, _ item: PoptScanner.Item) throws(LVSError) {
        guard !has(option) else {
            let what = option == .service ? "a virtual service (-t, -u, --sctp-service or -f)"
                : option == .forwarding ? "a forwarding method (-g, -i or -m)" : option.label
            throw .badInput("\(item.written): \(what) is given twice; give it once")
        }
        options |= option.bit
    }

    /// Applies one option, in command-line order, as ipvsadm's `parse_options` does.
    mutating func apply(_ item: PoptScanner.Item, firstCommand: IPVSAdmCommand.Command) throws(LVSError) {
        typealias V = IPVSAdmValueParsing
        let value = item.value ?? ""
        if try applyListing(item) { return }
        if try applySync(item, value) { return }
        if try applyTunnel(item, value) { return }
        switch item.tag {
        case .command(let second):
            throw .badInput("\(item.written): only one command can be given, and \(firstCommand.label) came first; "
                + "\(second.spelling) is a second command (run it as its own ipvsadm command)")
        case .tcpService, .udpService, .sctpService:
            try set(.service, item)
            proto = item.tag == .tcpService ? .tcp : item.tag == .udpService ? .udp : .sctp
            let endpoint = try V.endpoint(value, option: item.written, protocol: proto)
            address = endpoint.address
            family = endpoint.address.family
            if endpoint.address.family == .v6 { netmask = 128 }
            if let p = endpoint.port { port = p }
        case .fwmarkService:
            try set(.service, item)
            family = .v4
            proto = .tcp
            firewallMark = try V.firewallMark(value)
        case .scheduler:
            try set(.scheduler, item)
            scheduler = V.truncated(value, to: 15)
        case .persistent:
            try set(.persistent, item)
            flags.insert(.persistent)
            timeout = try V.timeout(item.value, in: 1...IPVSAdmParser.maxTimeout, option: item.written)
        case .netmask:
            try set(.netmask, item)
            netmask = family == .v6 ? try V.prefixLength(value) : try V.netmask(value)
        case .realServer:
            try set(.realServer, item)
            let endpoint = try V.endpoint(value, option: item.written, protocol: proto)
            destinationAddress = endpoint.address
            // Without a port the real server takes the service's port, as known so far.
            destinationPort = endpoint.port ?? port
        case .masquerading, .ipip, .gatewaying:
            try set(.forwarding, item)
            forwarding = item.tag == .masquerading ? .masquerade : item.tag == .ipip ? .tunnel : .route
        case .weight:
            try set(.weight, item)
            // ipvsadm 1.31 takes weights up to INT_MAX (its usage text still says 65535).
            weight = Int32(try V.integer(value, in: 0...Int64(Int32.max), option: item.written, what: "the weight"))
        case .upperThreshold:
            try set(.upperThreshold, item)
            upperThreshold = UInt32(try V.integer(value, in: 0...Int64(Int32.max), option: item.written, what: "the upper threshold"))
        case .lowerThreshold:
            try set(.lowerThreshold, item)
            lowerThreshold = UInt32(try V.integer(value, in: 0...Int64(Int32.max), option: item.written, what: "the lower threshold"))
        case .ipv6:
            guard firewallMark != 0 else {
                throw .badInput("\(item.written): -6 makes a fwmark service IPv6, so it must come after -f MARK; "
                    + "for -t/-u/--sctp-service the address itself says IPv6, e.g. -t [2001:db8::1]:80")
            }
            family = .v6
            netmask = 128
        case .onePacket:
            try set(.onePacket, item)
            flags.insert(.onePacket)
        case .persistenceEngine:
            try set(.persistenceEngine, item)
            persistenceEngine = V.truncated(value, to: 15)
        case .schedulerFlags:
            try set(.schedulerFlags, item)
            schedulerFlagsText = V.truncated(value, to: 127)
        default: break
        }
    }

    /// Options that choose a listing and its format (`-L` `-n` `--stats` ...).
    private mutating func applyListing(_ item: PoptScanner.Item) throws(LVSError) -> Bool {
        typealias V = IPVSAdmValueParsing
        switch item.tag {
        case .numeric:
            try set(.numeric, item)
            format.insert(.numeric)
        case .connection: try set(.connection, item)
        case .timeout: try set(.timeout, item)
        case .daemon: try set(.daemon, item)
        case .stats: try set(.stats, item); format.insert(.stats)
        case .rate: try set(.rate, item); format.insert(.rate)
        case .thresholds: try set(.thresholds, item); format.insert(.thresholds)
        case .persistentConnections: try set(.persistentConnections, item); format.insert(.persistentConnections)
        case .noSort: try set(.noSort, item); format.insert(.noSort)
        case .sort: break // sorting is the default; ipvsadm keeps --sort as a no-op
        case .exact: try set(.exact, item); format.insert(.exact)
        case .tunnelInfo: try set(.tunnelInfo, item); format.insert(.tunnelInfo)
        default: return false
        }
        return true
    }

    /// Options of the sync daemons (`--mcast-interface` `--syncid` ...).
    private mutating func applySync(_ item: PoptScanner.Item, _ value: String) throws(LVSError) -> Bool {
        typealias V = IPVSAdmValueParsing
        switch item.tag {
        case .mcastInterface:
            try set(.mcastInterface, item)
            interface = V.truncated(value, to: 15)
        case .syncID:
            try set(.syncID, item)
            syncID = UInt8(try V.integer(value, in: 0...255, option: item.written, what: "the sync id"))
        case .mcastGroup:
            try set(.mcastGroup, item)
            group = try V.multicastGroup(value)
        case .mcastPort:
            try set(.mcastPort, item)
            mcastPort = UInt16(try V.integer(value, in: 1...65535, option: item.written, what: "the multicast port"))
        case .mcastTTL:
            try set(.mcastTTL, item)
            ttl = UInt8(try V.integer(value, in: 1...255, option: item.written, what: "the multicast TTL"))
        case .syncMaxLength:
            try set(.syncMaxLength, item)
            maxLength = UInt16(try V.integer(value, in: 1...(65535 - 20 - 8), option: item.written, what: "the sync message length"))
        default: return false
        }
        return true
    }

    /// Tunnel options of real servers (`--tun-type` `--tun-port` ...).
    private mutating func applyTunnel(_ item: PoptScanner.Item, _ value: String) throws(LVSError) -> Bool {
        typealias V = IPVSAdmValueParsing
        switch item.tag {
        case .tunnelType:
            try set(.tunnelType, item)
            guard let kind = IPVSAdmOptionTable.TunnelKind(rawValue: value) else {
                throw .badInput("\(item.written) \(value): the tunnel type is ipip, gue or gre (lower case)")
            }
            tunnelKind = kind
        case .tunnelPort:
            try set(.tunnelPort, item)
            tunnelPort = UInt16(try V.integer(value, in: 1...65535, option: item.written, what: "the tunnel port"))
        case .tunnelNoChecksum: try set(.tunnelNoChecksum, item)
        case .tunnelChecksum:
            try set(.tunnelChecksum, item)
            tunnelFlags |= TunnelFlags.checksum.rawValue
        case .tunnelRemoteChecksum:
            try set(.tunnelRemoteChecksum, item)
            tunnelFlags |= TunnelFlags.remoteChecksum.rawValue
        default: return false
        }
        return true
    }
}
