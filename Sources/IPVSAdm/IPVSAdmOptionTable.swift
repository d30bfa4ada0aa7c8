import LVSModel

/// ipvsadm 1.31's option table (its popt `options_table`) and its command/option
/// compatibility tables, as data.
///
/// Every option of every line of a `-R` input is looked up here, so lookups index
/// tables instead of comparing strings, and a `Spec` copies without reference counting.
package enum IPVSAdmOptionTable {
    /// Whether an option takes a value, and what the value is (for messages).
    enum Argument: Sendable {
        case none
        case required(StaticString)
        /// Only `-p`: takes the next word unless that word starts with '-'.
        case optional(StaticString)
    }

    /// What an option does; several spellings can share one (-L and -l).
    enum Tag: Hashable, Sendable {
        case command(IPVSAdmCommand.Command)
        case tcpService, udpService, sctpService, fwmarkService
        case scheduler, persistent, netmask, realServer
        case masquerading, ipip, gatewaying
        case weight, upperThreshold, lowerThreshold
        case numeric, connection, mcastInterface, syncID
        case timeout, daemon, stats, rate, thresholds, persistentConnections
        case noSort, sort, exact, ipv6, onePacket, persistenceEngine, schedulerFlags
        case mcastGroup, mcastPort, mcastTTL, syncMaxLength
        case tunnelInfo, tunnelType, tunnelPort, tunnelNoChecksum, tunnelChecksum, tunnelRemoteChecksum
    }

    package struct Spec: Sendable {
        /// At most 15 bytes, so Swift stores it inline.
        package var long: String
        /// The ASCII letter or digit of the short form.
        var shortByte: UInt8?
        var argument: Argument
        var tag: Tag

        init(long: String, short: Unicode.Scalar?, argument: Argument, tag: Tag) {
            self.long = long
            self.shortByte = short.map { UInt8($0.value) }
            self.argument = argument
            self.tag = tag
        }

        package var short: Character? { shortByte.map { Character(Unicode.Scalar($0)) } }
    }

    /// In ipvsadm's order: popt takes the first match, so `--list` is -L, not -l.
    package static let specs: [Spec] = [
        Spec(long: "add-service", short: "A", argument: .none, tag: .command(.addService)),
        Spec(long: "edit-service", short: "E", argument: .none, tag: .command(.editService)),
        Spec(long: "delete-service", short: "D", argument: .none, tag: .command(.deleteService)),
        Spec(long: "clear", short: "C", argument: .none, tag: .command(.flush)),
        Spec(long: "list", short: "L", argument: .none, tag: .command(.list)),
        Spec(long: "list", short: "l", argument: .none, tag: .command(.list)),
        Spec(long: "zero", short: "Z", argument: .none, tag: .command(.zero)),
        Spec(long: "add-server", short: "a", argument: .none, tag: .command(.addServer)),
        Spec(long: "edit-server", short: "e", argument: .none, tag: .command(.editServer)),
        Spec(long: "delete-server", short: "d", argument: .none, tag: .command(.deleteServer)),
        Spec(long: "set", short: nil, argument: .none, tag: .command(.setTimeouts)),
        Spec(long: "help", short: "h", argument: .none, tag: .command(.help)),
        Spec(long: "version", short: "v", argument: .none, tag: .command(.version)),
        Spec(long: "restore", short: "R", argument: .none, tag: .command(.restore)),
        Spec(long: "save", short: "S", argument: .none, tag: .command(.save)),
        Spec(long: "start-daemon", short: nil, argument: .required("master or backup"), tag: .command(.startDaemon)),
        Spec(long: "stop-daemon", short: nil, argument: .required("master or backup"), tag: .command(.stopDaemon)),
        Spec(long: "tcp-service", short: "t", argument: .required("the service address, e.g. 192.168.0.1:80"), tag: .tcpService),
        Spec(long: "udp-service", short: "u", argument: .required("the service address, e.g. 192.168.0.1:53"), tag: .udpService),
        Spec(long: "sctp-service", short: nil, argument: .required("the service address, e.g. 192.168.0.1:80"), tag: .sctpService),
        Spec(long: "fwmark-service", short: "f", argument: .required("the firewall mark, a number from 1"), tag: .fwmarkService),
        Spec(long: "scheduler", short: "s", argument: .required("a scheduler name such as rr or wlc"), tag: .scheduler),
        Spec(long: "persistent", short: "p", argument: .optional("the timeout in seconds"), tag: .persistent),
        Spec(long: "netmask", short: "M", argument: .required("the persistence netmask"), tag: .netmask),
        Spec(long: "real-server", short: "r", argument: .required("the real server address, e.g. 10.0.0.2:80"), tag: .realServer),
        Spec(long: "masquerading", short: "m", argument: .none, tag: .masquerading),
        Spec(long: "ipip", short: "i", argument: .none, tag: .ipip),
        Spec(long: "gatewaying", short: "g", argument: .none, tag: .gatewaying),
        Spec(long: "weight", short: "w", argument: .required("the weight, 0 or more"), tag: .weight),
        Spec(long: "u-threshold", short: "x", argument: .required("the upper connection threshold"), tag: .upperThreshold),
        Spec(long: "l-threshold", short: "y", argument: .required("the lower connection threshold"), tag: .lowerThreshold),
        Spec(long: "numeric", short: "n", argument: .none, tag: .numeric),
        Spec(long: "connection", short: "c", argument: .none, tag: .connection),
        Spec(long: "mcast-interface", short: nil, argument: .required("an interface name"), tag: .mcastInterface),
        Spec(long: "syncid", short: nil, argument: .required("the sync id, 0 to 255"), tag: .syncID),
        Spec(long: "timeout", short: nil, argument: .none, tag: .timeout),
        Spec(long: "daemon", short: nil, argument: .none, tag: .daemon),
        Spec(long: "stats", short: nil, argument: .none, tag: .stats),
        Spec(long: "rate", short: nil, argument: .none, tag: .rate),
        Spec(long: "thresholds", short: nil, argument: .none, tag: .thresholds),
        Spec(long: "persistent-conn", short: nil, argument: .none, tag: .persistentConnections),
        Spec(long: "nosort", short: nil, argument: .none, tag: .noSort),
        Spec(long: "sort", short: nil, argument: .none, tag: .sort),
        Spec(long: "exact", short: "X", argument: .none, tag: .exact),
        Spec(long: "ipv6", short: "6", argument: .none, tag: .ipv6),
        Spec(long: "ops", short: "o", argument: .none, tag: .onePacket),
        Spec(long: "pe", short: nil, argument: .required("a persistence engine name such as sip"), tag: .persistenceEngine),
        Spec(long: "sched-flags", short: "b", argument: .required("comma-separated scheduler flags"), tag: .schedulerFlags),
        Spec(long: "mcast-group", short: nil, argument: .required("a multicast address"), tag: .mcastGroup),
        Spec(long: "mcast-port", short: nil, argument: .required("a UDP port"), tag: .mcastPort),
        Spec(long: "mcast-ttl", short: nil, argument: .required("a TTL, 1 to 255"), tag: .mcastTTL),
        Spec(long: "sync-maxlen", short: nil, argument: .required("a message length"), tag: .syncMaxLength),
        Spec(long: "tun-info", short: nil, argument: .none, tag: .tunnelInfo),
        Spec(long: "tun-type", short: nil, argument: .required("ipip, gue or gre"), tag: .tunnelType),
        Spec(long: "tun-port", short: nil, argument: .required("a port, 1 to 65535"), tag: .tunnelPort),
        Spec(long: "tun-nocsum", short: nil, argument: .none, tag: .tunnelNoChecksum),
        Spec(long: "tun-csum", short: nil, argument: .none, tag: .tunnelChecksum),
        Spec(long: "tun-remcsum", short: nil, argument: .none, tag: .tunnelRemoteChecksum),
    ]

    /// Exact long-name match: popt accepts no abbreviations.
    static func spec(long name: Substring) -> Spec? { specs.first { $0.long == name } }

    /// The first spec with this short form. Short forms are ASCII, and no other character
    /// equals one as a `Character` (IPVSAdmOptionTableTests checks every Unicode scalar), so a
    /// character that is not one ASCII byte has no spec.
    package static func spec(short c: Character) -> Spec? {
        guard c.utf8.count == 1, let b = c.utf8.first, b < 0x80 else { return nil }
        return spec(shortByte: b)
    }

    static func spec(shortByte b: UInt8) -> Spec? {
        guard b < 0x80 else { return nil }
        let i = shortIndex[Int(b)]
        return i < 0 ? nil : specs[Int(i)]
    }

    /// For each ASCII byte, the index in `specs` of the first spec with that short form, or -1.
    private static let shortIndex: [Int8] = {
        var index = [Int8](repeating: -1, count: 128)
        for (i, s) in specs.enumerated() {
            if let b = s.shortByte, index[Int(b)] < 0 { index[Int(b)] = Int8(i) }
        }
        return index
    }()

    /// Long options that start with `prefix`, to suggest the full name for an abbreviation.
    static func completions(of prefix: Substring) -> [String] {
        guard !prefix.isEmpty else { return [] }
        var seen: [String] = []
        for s in specs where s.long.hasPrefix(prefix) && !seen.contains(s.long) { seen.append(s.long) }
        return seen
    }

    /// One row of ipvsadm's `commands_v_options`: '+' required, 'x' illegal,
    /// '1' at most one of the '1's, ' ' optional.  Columns follow `IPVSAdmCommand.Option`.
    package static func row(for command: IPVSAdmCommand.Command) -> String {
        switch command {
        //                  -n-c svc-s-p-M-r fwd-w-x-y mc tot dmn st rt thr pc srt sid ex ops pe -b grp prt ttl size tinf type tprt nocs csum remc
        case .addService:  "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx"
        case .editService: "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx"
        case .deleteService: "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .flush:       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .list:        " 11xxxxxxxxx11       xxxxxxx xxxxx"
        case .addServer:   "xx+xxx+    xxxxxxxxxxxxxxxxxx     "
        case .deleteServer: "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .editServer:  "xx+xxx+    xxxxxxxxxxxxxxxxxx     "
        case .setTimeouts: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .startDaemon: "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx"
        case .stopDaemon:  "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx"
        case .restore:     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .save:        " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .zero:        "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        case .help, .version: String(repeating: " ", count: IPVSAdmCommand.Option.allCases.count)
        }
    }

    /// `row(for:)` as bytes, one row per command in `Command.allCases` order.
    private static let rowBytes: [[UInt8]] = IPVSAdmCommand.Command.allCases.map { Array(row(for: $0).utf8) }

    /// `row(for:)` as bytes, one per option column: checked for every parsed line, so computed once.
    static func rules(for command: IPVSAdmCommand.Command) -> [UInt8] {
        rowBytes[command.index]
    }

    /// ipvsadm's `tunnel_types_v_options`: columns --tun-port, --tun-nocsum, --tun-csum, --tun-remcsum.
    static let tunnelColumns: [IPVSAdmCommand.Option] = [.tunnelPort, .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum]

    static func tunnelRow(for type: TunnelKind) -> String {
        switch type {
        case .ipip: "xxxx"
        case .gue: "+111"
        case .gre: "x11x"
        }
    }

    private static let tunnelRowBytes: [[UInt8]] = TunnelKind.allCases.map { Array(tunnelRow(for: $0).utf8) }

    /// `tunnelRow(for:)` as bytes, computed once.
    static func tunnelRule(_ type: TunnelKind, column: Int) -> UInt8 {
        tunnelRowBytes[TunnelKind.allCases.firstIndex(of: type)!][column]
    }

    /// The tunnel types ipvsadm knows, by their exact (case-sensitive) names.
    enum TunnelKind: String, CaseIterable {
        case ipip, gue, gre

        /// The model's tunnel type of the same name.
        var tunnelType: TunnelType {
            switch self {
            case .ipip: .ipip
            case .gue: .gue
            case .gre: .gre
            }
        }
    }
}
