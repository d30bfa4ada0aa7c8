/// /proc/net/ip_vs: the whole table in one read, but without thresholds, tunnel details, counters,
/// scheduler flags or the family of fwmark services — so it serves listings, next to one service dump.
public enum ProcIPVSTable {
    /// One service block of the file.
    public struct Entry: Hashable, Sendable {
        /// nil for a fwmark service: the file does not say its family.
        public var protocolName: String
        public var address: IPAddress?
        public var port: UInt16
        public var mark: UInt32?
        public var scheduler: String
        public var realServers: [RealServerStatus]
    }

    public static func parse(_ text: String) throws(LVSError) -> [Entry] {
        try parse(Array(text.utf8))
    }

    /// Parses the file's bytes. It is read often and can be megabytes, so this works on bytes, not Characters.
    public static func parse(_ bytes: [UInt8]) throws(LVSError) -> [Entry] {
        var parser = Parser()
        try bytes.withUnsafeBufferPointer { (b) throws(LVSError) in try parser.feed(b) }
        return try parser.finish()
    }

    /// The file parsed as it is read, a chunk at a time, so that it never has to be held whole
    /// (2 MB at 10,000 services). `feed` then `finish` give what `parse` gives for the whole file.
    ///
    /// Listings parse 50,000 lines of it: each line is read once, field by field, through a pointer
    /// (no array of fields, no String but the scheduler's and the protocol's), and a service's real
    /// servers are gathered in one reused buffer and stored once, when the service ends.
    public struct Parser {
        private var entries: [Entry] = []
        /// The real servers of the last service, not yet stored in its entry.
        private var servers: [RealServerStatus] = []
        private var lineNumber = 0
        /// The start of a line that the last chunk did not finish.
        private var unfinished: [UInt8] = []
        /// The last scheduler name, reused while services repeat it (most tables use one or two).
        private var lastScheduler = ""

        public init() {}

        /// Parses the lines `chunk` completes; keeps a last line without its newline for later.
        public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>) throws(LVSError) {
            guard let base = chunk.baseAddress else { return }
            let n = chunk.count
            var start = 0, i = 0
            while i < n {
                if base[i] != 10 {
                    i += 1
                    continue
                }
                if unfinished.isEmpty {
                    try line(UnsafeBufferPointer(start: base + start, count: i - start))
                } else {
                    unfinished.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
                    let whole = unfinished
                    unfinished.removeAll(keepingCapacity: true)
                    try whole.withUnsafeBufferPointer { (b) throws(LVSError) in try line(b) }
                }
                i += 1
                start = i
            }
            if start < n { unfinished.append(contentsOf: UnsafeBufferPointer(start: base + start, count: n - start)) }
        }

        /// Parses a last line without a newline; returns the entries.
        public mutating func finish() throws(LVSError) -> [Entry] {
            if !unfinished.isEmpty {
                let last = unfinished
                unfinished.removeAll()
                try last.withUnsafeBufferPointer { (b) throws(LVSError) in try line(b) }
            }
            storeServers()
            return entries
        }

        /// Gives the last entry the real servers gathered for it.
        private mutating func storeServers() {
            guard !servers.isEmpty else { return }
            entries[entries.count - 1].realServers = Array(servers)
            servers.removeAll(keepingCapacity: true)
        }

        /// The next field (a run of bytes other than spaces) from `i` on, and `i` past it; nil at the end.
        private static func field(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Range<Int>? {
            while i < b.count && b[i] == 32 { i += 1 }
            let f = i
            while i < b.count && b[i] != 32 { i += 1 }
            return i > f ? f..<i : nil
        }

        /// One line, read through a buffer pointer: no bounds checks on every byte.
        private mutating func line(_ bytes: UnsafeBufferPointer<UInt8>) throws(LVSError) {
            lineNumber += 1
            if lineNumber <= 3 { return }
            var i = 0
            guard let first = Self.field(bytes, &i) else { return }
            let lineNumber = self.lineNumber
            func bad() -> LVSError {
                .failed("cannot read /proc/net/ip_vs: unexpected line \(lineNumber): \(String(decoding: bytes, as: UTF8.self))")
            }
            if bytes[first.lowerBound] == UInt8(ascii: "-") {
                guard !entries.isEmpty, let f1 = Self.field(bytes, &i), let (addr, port) = endpoint(bytes, f1),
                      let f2 = Self.field(bytes, &i), let method = forwarding(bytes, f2),
                      let f3 = Self.field(bytes, &i), let weight = decimal(bytes, f3),
                      let f4 = Self.field(bytes, &i), let active = decimal(bytes, f4),
                      let f5 = Self.field(bytes, &i), let inactive = decimal(bytes, f5) else { throw bad() }
                let rs = RealServer(address: addr, port: port, forwarding: method, weight: Int32(truncatingIfNeeded: weight))
                servers.append(RealServerStatus(server: rs, activeConnections: UInt32(truncatingIfNeeded: active),
                                                inactiveConnections: UInt32(truncatingIfNeeded: inactive)))
                return
            }
            let isMark = first.count == 3 && bytes[first.lowerBound] == UInt8(ascii: "F")
                && bytes[first.lowerBound + 1] == UInt8(ascii: "W") && bytes[first.lowerBound + 2] == UInt8(ascii: "M")
            guard let f1 = Self.field(bytes, &i), let f2 = Self.field(bytes, &i) else { throw bad() }
            var entry: Entry
            if isMark {
                guard let mark = hex(bytes, f1), mark <= UInt32.max else { throw bad() }
                entry = Entry(protocolName: "FWM", address: nil, port: 0, mark: UInt32(mark), scheduler: "", realServers: [])
            } else {
                guard let (addr, port) = endpoint(bytes, f1) else { throw bad() }
                entry = Entry(protocolName: String(decoding: bytes[first], as: UTF8.self), address: addr, port: port,
                              mark: nil, scheduler: "", realServers: [])
            }
            let scheduler = UnsafeBufferPointer(rebasing: bytes[f2])
            if !lastScheduler.utf8.elementsEqual(scheduler) { lastScheduler = String(decoding: scheduler, as: UTF8.self) }
            entry.scheduler = lastScheduler
            storeServers()
            entries.append(entry)
        }
    }

    private static func hex(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> UInt64? {
        guard !r.isEmpty, r.count <= 16 else { return nil }
        var v: UInt64 = 0
        for i in r {
            let c = b[i]
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 65...70: d = c - 55
            case 97...102: d = c - 87
            default: return nil
            }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    private static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int64? {
        guard !r.isEmpty, r.count <= 18 else { return nil }
        var i = r.lowerBound
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < r.upperBound else { return nil }
        var v: Int64 = 0
        while i < r.upperBound {
            guard (48...57).contains(b[i]) else { return nil }
            v = v * 10 + Int64(b[i] - 48)
            i += 1
        }
        return negative ? -v : v
    }

    private static func forwarding(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> ForwardingMethod? {
        switch b[r.lowerBound] {
        case UInt8(ascii: "M"): .masquerade
        case UInt8(ascii: "L"): .local
        case UInt8(ascii: "T"): .tunnel
        case UInt8(ascii: "R"): .route
        case UInt8(ascii: "B"): .bypass
        default: nil
        }
    }

    /// "C0A83D81:0050" or "[2001:0db8::1]:0050".
    static func endpoint(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> (IPAddress, UInt16)? {
        var colon = r.upperBound - 1
        while colon > r.lowerBound && b[colon] != UInt8(ascii: ":") { colon -= 1 }
        guard colon > r.lowerBound, let port = hex(b, (colon + 1)..<r.upperBound), port <= 0xffff else { return nil }
        if b[r.lowerBound] == UInt8(ascii: "[") {
            guard b[colon - 1] == UInt8(ascii: "]"),
                  let a = IPAddress.parseV6(bytes: UnsafeBufferPointer(rebasing: b[(r.lowerBound + 1)..<(colon - 1)]))
            else { return nil }
            return (a, UInt16(port))
        }
        guard colon - r.lowerBound == 8, let v = hex(b, r.lowerBound..<colon) else { return nil }
        return (IPAddress(v4: UInt32(v)), UInt16(port))
    }
}
