/// One change to the kernel's IPVS state: the unit that plans are made of and executors run.
public enum IPVSOperation: Hashable, Sendable {
    case addService(VirtualService)
    case editService(VirtualService)
    case deleteService(ServiceKey)
    case addRealServer(ServiceKey, RealServer)
    case editRealServer(ServiceKey, RealServer)
    case deleteRealServer(ServiceKey, RealServerKey)
    /// Removes every service and real server.
    case flush
    /// Zeroes the counters of one service, or of all when nil.
    case zero(ServiceKey?)
    case setTimeouts(Timeouts)
    case startDaemon(SyncDaemon)
    case stopDaemon(SyncRole)

    /// The service the operation acts on, if it acts on one.
    public var serviceKey: ServiceKey? {
        switch self {
        case .addService(let s), .editService(let s): s.key
        case .deleteService(let k), .addRealServer(let k, _), .editRealServer(let k, _), .deleteRealServer(let k, _): k
        case .zero(let k): k
        case .flush, .setTimeouts, .startDaemon, .stopDaemon: nil
        }
    }
}
