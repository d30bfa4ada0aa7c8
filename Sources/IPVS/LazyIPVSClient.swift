import LVSModel

/// Opens the IPVS socket on first use, so that commands which never touch IPVS (help, parse errors,
/// group commands on a kernel without IPVS) neither pay for it nor fail for its absence.
public final class LazyIPVSClient: IPVSControl {
    private var client: IPVSClient?

    public init() {}

    private func connected() throws(LVSError) -> IPVSClient {
        if let client { return client }
        let c = try IPVSClient()
        client = c
        return c
    }

    public func info() throws(LVSError) -> IPVSInfo { try connected().info() }
    public func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable { try connected().table(detail) }
    public func timeouts() throws(LVSError) -> Timeouts { try connected().timeouts() }
    public func daemons() throws(LVSError) -> [SyncDaemon] { try connected().daemons() }
    public func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        try connected().execute(operations)
    }
    public func failures(executing operations: [IPVSOperation]) throws(LVSError) -> [(index: Int, errno: Int32)] {
        try connected().failures(executing: operations)
    }
}
