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
    public struct Parser {
        public private(set) var entries: [Entry] = []
        private var lineNumber = 0
        private var fields: [Range<Int>] = []
        /// The start of a line that the last chunk did not finish.
        private var unfinished: [UInt8] = []

        public init() {}

        /// Parses the lines `chunk` completes; keeps a last line without its newline for later.
        public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>) throws(LVSError) {
            var start = 0
            func nextNewline() -> Int? {
                var i = start
                while i < chunk.count && chunk[i] != 10 { i += 1 }
                return i < chunk.count ? i : nil
            }
            while let newline = nextNewline() {
                if unfinished.isEmpty {
                    try line(UnsafeBufferPointer(rebasing: chunk[start..<newline]))
                } else {
                    unfinished.append(contentsOf: chunk[start..<newline])
                    let whole = unfinished
                    unfinished.removeAll(keepingCapacity: true)
                    try whole.withUnsafeBufferPointer { (b) throws(LVSError) in try line(b) }
                }
                start = newline + 1
            }
            unfinished.append(contentsOf: chunk[start...])
        }

        /// Parses a last line without a newline; returns the entries.
        public mutating func finish() throws(LVSError) -> [Entry] {
            if !unfinished.isEmpty {
                let last = unfinished
                unfinished.removeAll()
                try last.withUnsafeBufferPointer { (b) throws(LVSError) in try line(b) }
            }
            return entries
        }

        /// One line, read through a buffer pointer: no bounds checks on every byte.
        private mutating func line(_ bytes: UnsafeBufferPointer<UInt8>) throws(LVSError) {
            lineNumber += 1
            if lineNumber <= 3 { return }
            fields.removeAll(keepingCapacity: true)
            var i = 0
            while i < bytes.count {
                while i < bytes.count && bytes[i] == 32 { i += 1 }
                let f = i
                while i < bytes.count && bytes[i] != 32 { i += 1 }
                if i > f { fields.append(f..<i) }
            }
            guard let first = fields.first else { return }
            func text(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
            let lineNumber = self.lineNumber
            func bad() -> LVSError { .failed("cannot read /proc/net/ip_vs: unexpected line \(lineNumber): \(text(0..<bytes.count))") }
            if bytes[first.lowerBound] == UInt8(ascii: "-") {
                guard fields.count >= 6, !entries.isEmpty, let (addr, port) = endpoint(bytes, fields[1]),
                      let method = forwarding(bytes, fields[2]),
                      let weight = decimal(bytes, fields[3]), let active = decimal(bytes, fields[4]),
                      let inactive = decimal(bytes, fields[5]) else { throw bad() }
                let rs = RealServer(address: addr, port: port, forwarding: method, weight: Int32(truncatingIfNeeded: weight))
                entries[entries.count - 1].realServers.append(
                    RealServerStatus(server: rs, activeConnections: UInt32(truncatingIfNeeded: active),
                                     inactiveConnections: UInt32(truncatingIfNeeded: inactive)))
            } else if first.count == 3 && bytes[first.lowerBound] == UInt8(ascii: "F")
                        && bytes[first.lowerBound + 1] == UInt8(ascii: "W") && bytes[first.lowerBound + 2] == UInt8(ascii: "M") {
                guard fields.count >= 3, let mark = hex(bytes, fields[1]), mark <= UInt32.max else { throw bad() }
                entries.append(Entry(protocolName: "FWM", address: nil, port: 0, mark: UInt32(mark),
                                     scheduler: text(fields[2]), realServers: []))
            } else {
                guard fields.count >= 3, let (addr, port) = endpoint(bytes, fields[1]) else { throw bad() }
                entries.append(Entry(protocolName: text(first), address: addr, port: port, mark: nil,
                                     scheduler: text(fields[2]), realServers: []))
            }
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
