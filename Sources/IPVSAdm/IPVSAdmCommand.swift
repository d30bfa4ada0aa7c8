import Listings
import LVSModel

/// One ipvsadm command line, parsed and checked the way ipvsadm 1.31 checks it.
///
/// The fields hold final values: defaults are applied (scheduler wlc, direct
/// routing, weight 1, persistence 360 s for a bare `-p`, a host netmask) and
/// ipvsadm's own adjustments are made (a DR or TUN real server takes the
/// service's port), so translating a command into kernel operations cannot fail.
public struct IPVSAdmCommand: Hashable, Sendable {
    /// ipvsadm's commands, with the names its error messages use.
    public enum Command: String, Hashable, Sendable, CaseIterable {
        case addService = "add-service"
        case editService = "edit-service"
        case deleteService = "delete-service"
        case flush
        case list
        case addServer = "add-server"
        case deleteServer = "delete-server"
        case editServer = "edit-server"
        case setTimeouts = "set"
        case startDaemon = "start-daemon"
        case stopDaemon = "stop-daemon"
        case restore
        case save
        case zero
        /// -h: ipvsadm prints its usage and stops before checking anything else.
        case help
        /// -v: likewise for the version.
        case version

        /// How a user writes the command.
        public var spelling: String {
            switch self {
            case .addService: "-A"
            case .editService: "-E"
            case .deleteService: "-D"
            case .flush: "-C"
            case .list: "-L"
            case .addServer: "-a"
            case .deleteServer: "-d"
            case .editServer: "-e"
            case .setTimeouts: "--set"
            case .startDaemon: "--start-daemon"
            case .stopDaemon: "--stop-daemon"
            case .restore: "-R"
            case .save: "-S"
            case .zero: "-Z"
            case .help: "-h"
            case .version: "-v"
            }
        }

        /// "-A (add-service)", for messages.
        public var label: String { "\(spelling) (\(rawValue))" }

        /// The position in `allCases`, for tables indexed by command.
        var index: Int { Self.allCases.firstIndex(of: self)! }

        /// Commands that change the kernel's state, as opposed to listing or help.
        public var changesState: Bool {
            switch self {
            case .list, .save, .restore, .help, .version: false
            default: true
            }
        }
    }

    /// ipvsadm's options, in the order of its command/option table (`optnames`).
    public enum Option: Int, Hashable, Sendable, CaseIterable, Comparable {
        case numeric, connection, service, scheduler, persistent, netmask, realServer, forwarding
        case weight, upperThreshold, lowerThreshold, mcastInterface, timeout, daemon, stats, rate
        case thresholds, persistentConnections, noSort, syncID, exact, onePacket, persistenceEngine
        case schedulerFlags, mcastGroup, mcastPort, mcastTTL, syncMaxLength, tunnelInfo, tunnelType
        case tunnelPort, tunnelNoChecksum, tunnelChecksum, tunnelRemoteChecksum

        /// The name ipvsadm uses in its messages.
        public var ipvsadmName: String {
            switch self {
            case .numeric: "numeric"
            case .connection: "connection"
            case .service: "service-address"
            case .scheduler: "scheduler"
            case .persistent: "persistent"
            case .netmask: "netmask"
            case .realServer: "real-server"
            case .forwarding: "forwarding-method"
            case .weight: "weight"
            case .upperThreshold: "u-threshold"
            case .lowerThreshold: "l-threshold"
            case .mcastInterface: "mcast-interface"
            case .timeout: "timeout"
            case .daemon: "daemon"
            case .stats: "stats"
            case .rate: "rate"
            case .thresholds: "thresholds"
            case .persistentConnections: "persistent-conn"
            case .noSort: "nosort"
            case .syncID: "syncid"
            case .exact: "exact"
            case .onePacket: "ops"
            case .persistenceEngine: "pe"
            case .schedulerFlags: "sched-flags"
            case .mcastGroup: "mcast-group"
            case .mcastPort: "mcast-port"
            case .mcastTTL: "mcast-ttl"
            case .syncMaxLength: "sync-maxlen"
            case .tunnelInfo: "tun-info"
            case .tunnelType: "tun-type"
            case .tunnelPort: "tun-port"
            case .tunnelNoChecksum: "tun-nocsum"
            case .tunnelChecksum: "tun-csum"
            case .tunnelRemoteChecksum: "tun-remcsum"
            }
        }

        /// How a user writes the option, e.g. "-r" or "--tun-type".
        public var spelling: String {
            switch self {
            case .numeric: "-n"
            case .connection: "-c"
            case .service: "-t/-u/--sctp-service/-f"
            case .scheduler: "-s"
            case .persistent: "-p"
            case .netmask: "-M"
            case .realServer: "-r"
            case .forwarding: "-g/-i/-m"
            case .weight: "-w"
            case .upperThreshold: "-x"
            case .lowerThreshold: "-y"
            case .onePacket: "-o"
            case .schedulerFlags: "-b"
            case .exact: "--exact"
            case .noSort: "--nosort"
            case .persistentConnections: "--persistent-conn"
            default: "--" + ipvsadmName
            }
        }

        /// "-r (real-server)", for messages.
        public var label: String {
            spelling.hasPrefix("--") ? spelling : "\(spelling) (\(ipvsadmName))"
        }

        public static func < (a: Option, b: Option) -> Bool { a.rawValue < b.rawValue }

        /// The option's bit in `IPVSAdmCommand.optionBits`.
        var bit: UInt64 { 1 << UInt64(rawValue) }
    }

    /// How listings are printed (ipvsadm's FMT_* flags), shared with lvsh's own listings.
    public typealias ListFormat = Listings.ListFormat

    public var command: Command
    /// The options given, as ipvsadm counts them (`-6` and `--sort` count as none).
    public var options: Set<Option> {
        get { Set(Option.allCases.filter(has)) }
        set { optionBits = newValue.reduce(0) { $0 | $1.bit } }
    }
    /// `options`, one bit per option: every line of a `-R` input is parsed into a command.
    var optionBits: UInt64 = 0
    /// The virtual service (-t, -u, --sctp-service, -f with -6), when one was given.
    public var service: ServiceKey?
    /// The full service settings for -A and -E.
    public var virtualService: VirtualService?
    /// The real server for -a, -e and -d (only its address and port matter for -d).
    public var realServer: RealServer?
    public var format: ListFormat = []
    /// The values of --set.
    public var timeouts: Timeouts?
    /// The daemon to start, or (role only) to stop.
    public var daemon: SyncDaemon?
    /// What ipvsadm would do silently but a user may not expect, e.g. a DR real server's port rewritten.
    public var warnings: [String] = []

    public init(command: Command) {
        self.command = command
    }

    /// Whether the option was given.
    public func has(_ option: Option) -> Bool { optionBits & option.bit != 0 }
}
