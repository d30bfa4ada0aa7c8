/// One entry of the IPVS connection table, as /proc/net/ip_vs_conn shows it.
public struct Connection: Hashable, Sendable {
    /// The protocol as the kernel names it: TCP, UDP, SCTP, or IP for persistence templates.
    public var protocolName: String
    public var client: IPAddress
    public var clientPort: UInt16
    public var virtual: IPAddress
    public var virtualPort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var state: String
    /// Seconds until the entry expires.
    public var expires: UInt32
    public var persistenceEngine: String?
    public var persistenceData: String?

    public init(protocolName: String, client: IPAddress, clientPort: UInt16, virtual: IPAddress, virtualPort: UInt16,
                destination: IPAddress, destinationPort: UInt16, state: String, expires: UInt32,
                persistenceEngine: String? = nil, persistenceData: String? = nil) {
        self.protocolName = protocolName
        self.client = client
        self.clientPort = clientPort
        self.virtual = virtual
        self.virtualPort = virtualPort
        self.destination = destination
        self.destinationPort = destinationPort
        self.state = state
        self.expires = expires
        self.persistenceEngine = persistenceEngine
        self.persistenceData = persistenceData
    }
}

/// Parses /proc/net/ip_vs_conn (and ip_vs_conn_sync): a header line, then one connection a line.
public enum ConnectionTable {
    public static func parse(_ text: String) throws(LVSError) -> [Connection] {
        var result: [Connection] = []
        for (index, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if index == 0 && f.first == "Pro" { continue }
            guard f.count >= 9,
                  let caddr = address(f[1]), let cport = UInt16(f[2], radix: 16),
                  let vaddr = address(f[3]), let vport = UInt16(f[4], radix: 16),
                  let daddr = address(f[5]), let dport = UInt16(f[6], radix: 16) else {
                throw .failed("cannot read the connection table: unexpected line \(index + 1): \(line)")
            }
            // A persistence engine adds its name and data after the expiry.
            let expires = UInt32(f[8])
            let pe = f.count > 9 ? String(f[9]) : nil
            let peData = f.count > 10 ? f[10...].joined(separator: " ") : nil
            guard let expires else { throw .failed("cannot read the connection table: bad expiry on line \(index + 1)") }
            result.append(Connection(protocolName: String(f[0]), client: caddr, clientPort: cport,
                                     virtual: vaddr, virtualPort: vport, destination: daddr, destinationPort: dport,
                                     state: String(f[7]), expires: expires,
                                     persistenceEngine: pe, persistenceData: peData))
        }
        return result
    }

    private static func address(_ field: Substring) -> IPAddress? {
        if field.contains(":") { return IPAddress.parseV6(field) }
        guard field.count == 8, let v = UInt32(field, radix: 16) else { return nil }
        return IPAddress(v4: v)
    }
}
