import LVSModel

/// What the rest of lvsh needs from IPVS; `IPVSClient` implements it over generic netlink.
public protocol IPVSControl {
    /// Version and connection-table size (IPVS_CMD_GET_INFO).
    func info() throws(LVSError) -> IPVSInfo
    /// Every service with its real servers; `.listing` may leave out what listings do not show.
    func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable
    /// The connection timeouts.
    func timeouts() throws(LVSError) -> Timeouts
    /// The running sync daemons (at most one master and one backup).
    func daemons() throws(LVSError) -> [SyncDaemon]
    /// Runs the operations in order, pipelined; one result per operation, nil where it succeeded.
    /// The kernel goes on after a failed operation, so later results are independent of earlier failures.
    func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?]
    /// Runs the operations as `execute` does, but returns only the refused ones, by index, in order:
    /// for batches of 50,000 operations (`ipvsadm -R`) a result for each costs more memory than the batch.
    func failures(executing operations: [IPVSOperation]) throws(LVSError) -> [(index: Int, errno: Int32)]
}

/// Why the kernel refused one operation: the operation and its errno.
public struct IPVSFailure: Hashable, Sendable, Error {
    public var operation: IPVSOperation
    public var errno: Int32
    public init(operation: IPVSOperation, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }
}

/// How much of the table a reader needs.
public enum TableDetail: Sendable {
    /// Everything: thresholds, tunnel options, persistent-connection counts, counters.
    case complete
    /// What `ipvsadm -L -n` and `-S -n` show: addresses, methods, weights, connection counts, tunnel options.
    /// Thresholds, counters and persistent-connection counts may be zero.
    case listing
}

extension IPVSControl {
    /// The complete table.
    public func table() throws(LVSError) -> IPVSTable { try table(.complete) }

    public func failures(executing operations: [IPVSOperation]) throws(LVSError) -> [(index: Int, errno: Int32)] {
        try execute(operations).enumerated().compactMap { i, failure in failure.map { (i, $0.errno) } }
    }
}
