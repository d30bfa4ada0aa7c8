import CNetlink
import LVSModel
import System

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
        var out: [SyncDaemon] = []
        try dump(UInt8(IPVS_CMD_GET_DAEMON), what: "list the sync daemons", build: { _ in }) { m in
            if let d = IPVSDecoding.daemon(m) { out.append(d) }
        }
        return out
    }

    /// The services alone, with their counters: one dump.
    public func services() throws(LVSError) -> [(VirtualService, Stats)] {
        var out: [(VirtualService, Stats)] = []
        try forEachService { out.append(($0, $1)) }
        return out
    }

    /// One service with its counters, nil when the kernel has no service of that key: one request,
    /// where the dump of `services()` lists every service (10,000 of them to verify one weight).
    public func service(_ key: ServiceKey) throws(LVSError) -> (VirtualService, Stats)? {
        do {
            let m = try request(UInt8(IPVS_CMD_GET_SERVICE), what: "read the IPVS service \(key)") { w in
                IPVSEncoding.serviceKey(key, into: &w)
            }
            return try IPVSDecoding.service(m)
        } catch where error.errno == IPVSStateModel.Errno.srch {
            return nil
        }
    }

    /// The services of one service dump, each as it is decoded.
    private func forEachService(counters: Bool = true, _ body: (VirtualService, Stats) -> Void) throws(LVSError) {
        try dump(UInt8(IPVS_CMD_GET_SERVICE), what: "list the IPVS services", build: { _ in }) { (m) throws(LVSError) in
            let (service, stats) = try IPVSDecoding.service(m, counters: counters)
            body(service, stats)
        }
    }

    /// One service's real servers: one dump.
    public func realServers(of key: ServiceKey) throws(LVSError) -> [RealServerStatus] {
        try realServers(of: key, counters: true)
    }

    private func realServers(of key: ServiceKey, counters: Bool) throws(LVSError) -> [RealServerStatus] {
        var out: [RealServerStatus] = []
        try dump(UInt8(IPVS_CMD_GET_DEST), what: "list the real servers of \(key)", build: { w in
            IPVSEncoding.serviceKey(key, into: &w)
        }) { (m) throws(LVSError) in
            out.append(try IPVSDecoding.realServer(m, serviceFamily: key.family, counters: counters))
        }
        return out
    }

    /// The whole table: one service dump, then every service's real servers.
    ///
    /// Complete, or a listing of many services: one destination dump per service, through io_uring
    /// (RingDumps) where the kernel has it. A listing of fewer services (or one whose ring failed)
    /// reads /proc/net/ip_vs, which holds every destination, and dumps only services whose entry
    /// there is ambiguous, lacks tunnel details, or is missing. The file costs the kernel a walk from
    /// its first service on every read of at most 4 KiB (seq_file), so its time grows with the
    /// square of the table (see `RingDumps.listingMinimum`). A listing leaves the counters zero: it
    /// does not show them.
    public func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable {
        let counters = detail == .complete
        var table = IPVSTable()
        try forEachService(counters: counters) { table.services.append(ServiceStatus(service: $0, stats: $1)) }
        let ring = transport is GenericNetlinkSocket
        var pending = Array(table.services.indices)
        var ringTried = false
        if detail == .listing, ring, pending.count >= RingDumps.listingMinimum {
            pending = ringDumps(pending, into: &table, counters: counters)
            ringTried = true
        }
        if detail == .listing, !pending.isEmpty, !ringTried || pending.count >= RingDumps.minimum {
            pending = try fromProc(pending, into: &table)
        }
        // The file leaves services out when other namespaces hold some (see RingDumps).
        if !ringTried, ring, pending.count >= RingDumps.minimum {
            pending = ringDumps(pending, into: &table, counters: counters)
        }
        for s in pending {
            table.services[s].realServers = try realServers(of: table.services[s].service.key, counters: counters)
        }
        return table
    }

    /// Gives the services at `indices` their real servers from io_uring dumps; returns those it could not.
    private func ringDumps(_ indices: [Int], into table: inout IPVSTable, counters: Bool) -> [Int] {
        let found = RingDumps.realServers(of: indices.map { table.services[$0].service.key }, family: transport.familyID,
                                          counters: counters)
        var left: [Int] = []
        for (k, s) in indices.enumerated() {
            if let servers = found[k] { table.services[s].realServers = servers } else { left.append(s) }
        }
        return left
    }

    /// Gives the services at `indices` their real servers from /proc/net/ip_vs; returns those it could
    /// not (absent, ambiguous, or tunnels, whose options the file lacks). The file is parsed as it is
    /// read; one that cannot be read to its end counts as absent, even if what was read did not parse.
    private func fromProc(_ indices: [Int], into table: inout IPVSTable) throws(LVSError) -> [Int] {
        var parser = ProcIPVSTable.Parser()
        var problem: LVSError?
        let complete = ProcFile.forEachChunk(procPath) { chunk in
            guard problem == nil else { return }
            do throws(LVSError) { try parser.feed(chunk) } catch { problem = error }
        }
        guard complete else { return indices }
        if let problem { throw problem }
        let proc = try parser.finish()
        // Where each service's entry is in `proc`; a mark seen twice has none (-1).
        var inet: [ServiceKey: Int] = [:]
        var marks: [UInt32: Int] = [:]
        for (i, e) in proc.enumerated() {
            if let mark = e.mark {
                marks[mark] = marks[mark] == nil ? i : -1
            } else if let a = e.address, let p = L4Protocol(name: e.protocolName) {
                inet[.inet(p, a, e.port)] = i
            }
        }
        // IPv4 and IPv6 fwmark services with one mark look alike in /proc, and the file may hold only
        // one of them (it leaves services out, see RingDumps): a mark is only read from the file when
        // the service dump, which is complete, has one service with it.
        var servicesWithMark: [UInt32: Int] = [:]
        for s in table.services {
            if case .fwmark(let mark, _) = s.service.key { servicesWithMark[mark, default: 0] += 1 }
        }
        var left: [Int] = []
        for s in indices {
            let key = table.services[s].service.key
            var entry: Int? = nil
            switch key {
            case .inet: entry = inet[key]
            case .fwmark(let mark, _):
                if servicesWithMark[mark] == 1, let i = marks[mark], i >= 0 { entry = i }
            }
            if let i = entry, !proc[i].realServers.contains(where: { $0.server.forwarding == .tunnel }) {
                table.services[s].realServers = proc[i].realServers
            } else {
                left.append(s)
            }
        }
        return left
    }

    /// Where the listing path reads the table; the file is per network namespace.
    public var procPath = "/proc/net/ip_vs"

    // MARK: writing

    public func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        var results = [IPVSFailure?](repeating: nil, count: operations.count)
        for (i, errno) in try failures(executing: operations) {
            results[i] = IPVSFailure(operation: operations[i], errno: errno)
        }
        return results
    }

    public func failures(executing operations: [IPVSOperation]) throws(LVSError) -> [(index: Int, errno: Int32)] {
        var failures: [(index: Int, errno: Int32)] = []
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
                    if code != 0 { failures.append((start + index, -code)) }
                    if m.sequence == last { done = true }
                }
            }
            start = end
        }
        // The kernel answers in order; sorting only guards that order.
        failures.sort { $0.index < $1.index }
        return failures
    }

    // MARK: plumbing

    /// A request answered by one message (GET_INFO, GET_CONFIG, GET_SERVICE of one service).
    private func request(_ command: UInt8, what: @autoclosure () -> String,
                         build: (inout NetlinkWriter) -> Void = { _ in }) throws(LVSError) -> NetlinkMessage {
        var w = NetlinkWriter(capacity: 64)
        let seq = nextSequence()
        w.beginGeneric(family: transport.familyID, flags: NetlinkConstant.request, sequence: seq,
                       command: command, version: IPVSEncoding.version)
        build(&w)
        w.endMessage()
        try transport.send(w.bytes)
        while true {
            for m in try transport.receive() where m.sequence == seq {
                if let code = m.errorCode {
                    if code != 0 { throw IPVSErrors.requestFailed(what(), errno: -code) }
                    continue
                }
                return m
            }
        }
    }

    /// A dump: the request, then multi-part replies until NLMSG_DONE, each handed to `each` as it
    /// arrives. `what` names the request in an error, built only then (a table read makes one dump
    /// per service).
    private func dump(_ command: UInt8, what: @autoclosure () -> String, build: (inout NetlinkWriter) -> Void,
                      each: (NetlinkMessage) throws(LVSError) -> Void) throws(LVSError) {
        requestWriter.removeAll()
        let seq = nextSequence()
        requestWriter.beginGeneric(family: transport.familyID, flags: NetlinkConstant.request | NetlinkConstant.dump,
                                   sequence: seq, command: command, version: IPVSEncoding.version)
        build(&requestWriter)
        requestWriter.endMessage()
        try transport.send(requestWriter.bytes)
        var finished = false
        while !finished {
            try transport.receive { (m) throws(LVSError) in
                guard !finished, m.sequence == seq else { return }
                switch m.type {
                case NetlinkConstant.done:
                    finished = true
                case NetlinkConstant.error:
                    let code = m.errorCode ?? 0
                    if code != 0 { throw IPVSErrors.requestFailed(what(), errno: -code) }
                    finished = true
                case NetlinkConstant.noop:
                    break
                default:
                    try each(m)
                }
            }
        }
    }

    /// The buffer dump requests are built in, kept from one to the next.
    private var requestWriter = NetlinkWriter(capacity: 128)
}
