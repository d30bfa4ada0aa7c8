import LVSModel

/// What the rest of lvsh needs from IPVS; `IPVSClient` implements it over generic netlink.
public protocol IPVSControl {
    /// Version and connection-table size (IPVS_CMD_GET_INFO).
    func info() throws(LVSError) -> IPVSInfo
    /// Every service with its real servers, counters included.
    func table() throws(LVSError) -> IPVSTable
    /// The connection timeouts.
    func timeouts() throws(LVSError) -> Timeouts
    /// The running sync daemons (at most one master and one backup).
    func daemons() throws(LVSError) -> [SyncDaemon]
    /// Runs the operations in order, pipelined; one result per operation, nil where it succeeded.
    /// The kernel goes on after a failed operation, so later results are independent of earlier failures.
    func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?]
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
