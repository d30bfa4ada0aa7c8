import CNetlink
import LVSModel

/// IPVS over generic netlink: reads the table into the model and runs operations pipelined.
public final class IPVSClient: IPVSControl {
    private let transport: NetlinkTransport
    private var sequence: UInt32
    /// Requests per sendmsg: large enough that syscalls vanish from the cost, small enough that the
    /// errors of a whole chunk always fit the receive buffer.
    public var chunkSize = 256

    /// Connects to the kernel's IPVS family.
    public convenience init() throws(LVSError) {
        self.init(transport: try GenericNetlinkSocket(family: IPVS_GENL_NAME))
    }

    public init(transport: NetlinkTransport, firstSequence: UInt32 = 1) {
        self.transport = transport
        self.sequence = firstSequence
    }

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    // MARK: reading

    public func info() throws(LVSError) -> IPVSInfo {
        IPVSDecoding.info(try request(UInt8(IPVS_CMD_GET_INFO), what: "read IPVS information"))
    }

    public func timeouts() throws(LVSError) -> Timeouts {
        IPVSDecoding.timeouts(try request(UInt8(IPVS_CMD_GET_CONFIG), what: "read the IPVS timeouts"))
    }

    public func daemons() throws(LVSError) -> [SyncDaemon] {
        try dump(UInt8(IPVS_CMD_GET_DAEMON), what: "list the sync daemons") { _ in }.compactMap(IPVSDecoding.daemon)
    }

    /// The services alone, with their counters: one dump.
    public func services() throws(LVSError) -> [(VirtualService, Stats)] {
        var out: [(VirtualService, Stats)] = []
        for m in try dump(UInt8(IPVS_CMD_GET_SERVICE), what: "list the IPVS services", build: { _ in }) {
            out.append(try IPVSDecoding.service(m))
        }
        return out
    }

    /// One service's real servers: one dump.
    public func realServers(of key: ServiceKey) throws(LVSError) -> [RealServerStatus] {
        var out: [RealServerStatus] = []
        let messages = try dump(UInt8(IPVS_CMD_GET_DEST), what: "list the real servers of \(key)") { w in
            IPVSEncoding.serviceKey(key, into: &w)
        }
        for m in messages {
            out.append(try IPVSDecoding.realServer(m, serviceFamily: key.family))
        }
        return out
    }

    /// The whole table. Complete: one service dump, then one destination dump per service.
    /// Listing: one service dump and one read of /proc/net/ip_vs, which holds every destination; a
    /// destination dump only for services whose entry there is ambiguous or lacks tunnel details.
    public func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable {
        let services = try services()
        var proc: [ProcIPVSTable.Entry] = []
        if detail == .listing, let bytes = ProcFile.bytes(procPath) {
            proc = try ProcIPVSTable.parse(bytes)
        }
        var inet: [ServiceKey: [RealServerStatus]] = [:]
        var marks: [UInt32: [[RealServerStatus]]] = [:]
        for e in proc {
            if let mark = e.mark {
                marks[mark, default: []].append(e.realServers)
            } else if let a = e.address, let p = L4Protocol(name: e.protocolName) {
                inet[.inet(p, a, e.port)] = e.realServers
            }
        }
        var table = IPVSTable()
        table.services.reserveCapacity(services.count)
        for (svc, stats) in services {
            var reals: [RealServerStatus]? = nil
            switch svc.key {
            case .inet: reals = inet[svc.key]
            case .fwmark(let mark, _):
                // IPv4 and IPv6 fwmark services with one mark look alike in /proc.
                if let found = marks[mark], found.count == 1 { reals = found[0] }
            }
            if let r = reals, r.contains(where: { $0.server.forwarding == .tunnel }) { reals = nil }
            if reals == nil { reals = try realServers(of: svc.key) }
            table.services.append(ServiceStatus(service: svc, stats: stats, realServers: reals ?? []))
        }
        return table
    }

    /// Where the listing path reads the table; the file is per network namespace.
    public var procPath = "/proc/net/ip_vs"

    // MARK: writing

    public func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        var results = [IPVSFailure?](repeating: nil, count: operations.count)
        var writer = NetlinkWriter(capacity: 64 * 1024)
        var start = 0
        while start < operations.count {
            let end = min(start + chunkSize, operations.count)
            writer.removeAll()
            let first = sequence &+ 1
            for i in start..<end {
                // Only the chunk's last request asks for an ack: it is the barrier that says the kernel
                // has processed everything before it. Failures are answered whether asked or not.
                let flags = NetlinkConstant.request | (i == end - 1 ? NetlinkConstant.ack : 0)
                writer.beginGeneric(family: transport.familyID, flags: flags, sequence: nextSequence(),
                                    command: IPVSEncoding.command(for: operations[i]), version: IPVSEncoding.version)
                IPVSEncoding.attributes(of: operations[i], into: &writer)
                writer.endMessage()
            }
            try transport.send(writer.bytes)
            let last = sequence
            var done = false
            while !done {
                for m in try transport.receive() {
                    guard let code = m.errorCode else { continue }
                    let index = Int(m.sequence &- first)
                    guard index >= 0 && index < end - start else { continue }
                    if code != 0 { results[start + index] = IPVSFailure(operation: operations[start + index], errno: -code) }
                    if m.sequence == last { done = true }
                }
            }
            start = end
        }
        return results
    }

    // MARK: plumbing

    /// A request answered by one message (GET_INFO, GET_CONFIG).
    private func request(_ command: UInt8, what: String) throws(LVSError) -> NetlinkMessage {
        var w = NetlinkWriter(capacity: 64)
        let seq = nextSequence()
        w.beginGeneric(family: transport.familyID, flags: NetlinkConstant.request, sequence: seq,
                       command: command, version: IPVSEncoding.version)
        w.endMessage()
        try transport.send(w.bytes)
        while true {
            for m in try transport.receive() where m.sequence == seq {
                if let code = m.errorCode {
                    if code != 0 { throw IPVSErrors.requestFailed(what, errno: -code) }
                    continue
                }
                return m
            }
        }
    }

    /// A dump: the request, then multi-part replies until NLMSG_DONE.
    private func dump(_ command: UInt8, what: String, build: (inout NetlinkWriter) -> Void) throws(LVSError) -> [NetlinkMessage] {
        var w = NetlinkWriter(capacity: 128)
        let seq = nextSequence()
        w.beginGeneric(family: transport.familyID, flags: NetlinkConstant.request | NetlinkConstant.dump,
                       sequence: seq, command: command, version: IPVSEncoding.version)
        build(&w)
        w.endMessage()
        try transport.send(w.bytes)
        var out: [NetlinkMessage] = []
        while true {
            for m in try transport.receive() where m.sequence == seq {
                switch m.type {
                case NetlinkConstant.done:
                    return out
                case NetlinkConstant.error:
                    let code = m.errorCode ?? 0
                    if code != 0 { throw IPVSErrors.requestFailed(what, errno: -code) }
                    return out
                case NetlinkConstant.noop:
                    continue
                default:
                    out.append(m)
                }
            }
        }
    }
}
