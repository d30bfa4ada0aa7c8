import IPVS
import LVSModel

/// How listings are printed: ipvsadm's FMT_* flags (`-n`, `--stats`, ...), for ipvsadm's listings and lvsh's.
public struct ListFormat: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let numeric = ListFormat(rawValue: 1 << 0)
    public static let stats = ListFormat(rawValue: 1 << 2)
    public static let rate = ListFormat(rawValue: 1 << 3)
    public static let thresholds = ListFormat(rawValue: 1 << 4)
    public static let persistentConnections = ListFormat(rawValue: 1 << 5)
    public static let noSort = ListFormat(rawValue: 1 << 6)
    public static let exact = ListFormat(rawValue: 1 << 7)
    public static let tunnelInfo = ListFormat(rawValue: 1 << 8)
}

extension ListFormat {
    /// How much of the table the listing needs: counters, thresholds and persistent-connection
    /// counts only when it shows them.
    public var tableDetail: TableDetail {
        isDisjoint(with: [.stats, .rate, .thresholds, .persistentConnections]) ? .listing : .complete
    }
}
