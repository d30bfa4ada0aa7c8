import LVSModel

/// The LVS part of a keepalived configuration, as keepalived 2.2 reads it (check_parser.c and the
/// checkers' keywords), before any mapping onto lvsh. Times are in milliseconds.
struct KeepalivedConfig {
    var virtualServers: [VirtualServerDef] = []
    var groups: [ServerGroupDef] = []
    var trackFiles: [String: TrackFileDef] = [:]
    var timeouts: TimeoutsDef?
    var syncDaemon: SyncDaemonDef?
    /// Names of the VRRP instances, for `lvs_sync_daemon ... inst NAME`.
    var vrrpInstances: Set<String> = []
    /// `nftables_ipvs` in global_defs: keepalived marks the addresses of virtual server groups itself.
    var nftablesIPVS: SourcePlace?
    var nftablesStartMark: UInt32 = 1000

    func group(named name: String) -> ServerGroupDef? { groups.first { $0.name == name } }
}

/// `virtual_server_group NAME { ... }`.
struct ServerGroupDef {
    var name: String
    var place: SourcePlace
    var entries: [GroupEntry] = []
}

/// One line of a virtual server group.
enum GroupEntry: Hashable {
    /// An address, or a range of them (`10.0.0.1-10`, `10.0.0.250-10.0.1.5`, `10.0.0.8/29`), and a port (0: none).
    case addresses(first: IPAddress, last: IPAddress, port: UInt16, place: SourcePlace)
    case fwmark(UInt32, family: IPAddress.Family?, place: SourcePlace)
}

/// `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
struct Forwarding: Hashable {
    enum Method: String, Hashable { case nat, dr, tun }
    var method: Method
    var tunnelType: String?
    var tunnelPort: UInt16?
    var checksum: String?
}

/// Checker timing as a virtual server, real server or checker sets it (nil: inherited or default).
struct CheckTiming: Hashable {
    var delayLoop: UInt32?
    var connectTimeout: UInt32?
    var retry: UInt32?
    var delayBeforeRetry: UInt32?
    var warmup: UInt32?
    var alpha: Bool?

    /// This timing with `outer`'s values where this one has none.
    func inheriting(_ outer: CheckTiming) -> CheckTiming {
        CheckTiming(delayLoop: delayLoop ?? outer.delayLoop, connectTimeout: connectTimeout ?? outer.connectTimeout,
                    retry: retry ?? outer.retry, delayBeforeRetry: delayBeforeRetry ?? outer.delayBeforeRetry,
                    warmup: warmup ?? outer.warmup, alpha: alpha ?? outer.alpha)
    }
}

/// `virtual_server ADDRESS [PORT]|fwmark N|group NAME { ... }`.
struct VirtualServerDef {
    enum Target: Hashable {
        case address(IPAddress, UInt16)
        case fwmark(UInt32)
        case group(String)
    }

    var target: Target
    var place: SourcePlace
    var scheduler: String?
    /// Scheduler and service flags in the order given: ops, flag-1..3, sh-port, sh-fallback, mh-port, mh-fallback.
    var flags: [String] = []
    var forwarding: Forwarding?
    var persistence: UInt32?
    var granularity: String?
    var engine: String?
    /// tcp, udp or sctp.
    var proto: String?
    var family: IPAddress.Family?
    var timing = CheckTiming()
    var inhibit = false
    var alpha = false
    var quorum: UInt32?
    var hysteresis: UInt32?
    /// The default weight of its real servers (`weight` in virtual_server).
    var weight: UInt32 = 1
    var virtualhost: String?
    var sorry: SorryDef?
    var reals: [RealServerDef] = []
}

/// `sorry_server ADDRESS [PORT]` and its companions.
struct SorryDef {
    var address: IPAddress
    var port: UInt16
    var place: SourcePlace
    var inhibit = false
    var forwarding: Forwarding?
}

/// `real_server ADDRESS [PORT] { ... }`.
struct RealServerDef {
    var address: IPAddress
    /// 0 when not given.
    var port: UInt16
    var place: SourcePlace
    var weight: UInt32?
    var forwarding: Forwarding?
    var upper: UInt32?
    var lower: UInt32?
    var inhibit: Bool?
    var timing = CheckTiming()
    var virtualhost: String?
    var checkers: [CheckerDef] = []
}

/// Where a checker connects: connect_ip, connect_port, bindto.
struct Connection: Hashable {
    var address: IPAddress?
    var port: UInt16?
    var source: IPAddress?
}

/// One `url { ... }` of HTTP_GET or SSL_GET.
struct URLDef: Hashable {
    var path: String?
    var digest: String?
    var statuses: [ClosedRange<UInt16>]?
    var virtualhost: String?
    var regex: String?
    var regexNoMatch = false
    var place: SourcePlace
}

/// A checker block (TCP_CHECK, HTTP_GET, ...).
struct CheckerDef {
    enum Kind: String, CaseIterable {
        case tcp = "TCP_CHECK", http = "HTTP_GET", ssl = "SSL_GET", dns = "DNS_CHECK", smtp = "SMTP_CHECK"
        case misc = "MISC_CHECK", ping = "PING_CHECK", udp = "UDP_CHECK", file = "FILE_CHECK", bfd = "BFD_CHECK"
    }

    var kind: Kind
    var place: SourcePlace
    var connection = Connection()
    var timing = CheckTiming()
    // HTTP_GET, SSL_GET
    var urls: [URLDef] = []
    var virtualhost: String?
    var enableSNI = false
    // SMTP_CHECK
    var helo: String?
    var hosts: [Connection] = []
    // DNS_CHECK
    var dnsType: String?
    var dnsName: String?
    // MISC_CHECK
    var program: [String] = []
    var miscTimeout: UInt32?
    var miscDynamic = false
    // UDP_CHECK
    var payload: [UInt8]?
    var requireReply = false
    var replyPattern: String?
    // FILE_CHECK
    var trackFile: String?
    var fileWeight: Int64?
    var fileReverse = false
}

/// `track_file NAME { file PATH; weight W [reverse] }`.
struct TrackFileDef {
    var name: String
    var path: String?
    var weight: Int64 = 1
    var reverse = false
    var place: SourcePlace
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`.
struct TimeoutsDef {
    var tcp: UInt32?
    var tcpfin: UInt32?
    var udp: UInt32?
    var place: SourcePlace
}

/// `lvs_sync_daemon INTERFACE [[inst] NAME] [id N] [maxlen N] [port N] [ttl N] [group ADDRESS]`.
struct SyncDaemonDef {
    var interface: String
    var instance: String?
    var id: UInt32?
    var maxlen: UInt32?
    var port: UInt32?
    var ttl: UInt32?
    var group: IPAddress?
    var place: SourcePlace
}
