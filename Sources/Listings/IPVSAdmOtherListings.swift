import LVSModel

/// ipvsadm's smaller listings: --timeout, --daemon and -c (connections).
public enum IPVSAdmOtherListings {
    /// `ipvsadm -L --timeout`.
    public static func timeouts(_ t: Timeouts) -> String {
        "Timeout (tcp tcpfin udp): \(Int32(bitPattern: t.tcp)) \(Int32(bitPattern: t.tcpFin)) \(Int32(bitPattern: t.udp))\n"
    }

    /// `ipvsadm -L --daemon`: one line per running daemon, in the kernel's order.
    public static func daemons(_ daemons: [SyncDaemon]) -> String {
        var out = ""
        for d in daemons.prefix(2) {
            out += "\(d.role.name) sync daemon (mcast=\(d.interface), syncid=\(d.syncID)"
            if d.maxLength != 0 { out += ", maxlen=\(d.maxLength)" }
            if let g = d.group { out += ", group=\(g)" }
            if d.port != 0 { out += ", port=\(d.port)" }
            if d.ttl != 0 { out += ", ttl=\(d.ttl)" }
            out += ")\n"
        }
        return out
    }

    /// `ipvsadm -L -c -n`, with pe name and data under --persistent-conn.
    public static func connections(_ connections: [Connection], format: ListFormat) -> String {
        let pe = format.contains(.persistentConnections)
        var out = "IPVS connection entries\n"
        if pe {
            out += "pro expire " + IPVSAdmFormat.left("state", 11) + " " + IPVSAdmFormat.left("source", 18) + " "
                + IPVSAdmFormat.left("virtual", 18) + " " + IPVSAdmFormat.left("destination", 18) + " "
                + IPVSAdmFormat.left("pe name", 16) + " pe_data\n"
        } else {
            out += "pro expire " + IPVSAdmFormat.left("state", 11) + " " + IPVSAdmFormat.left("source", 18) + " "
                + IPVSAdmFormat.left("virtual", 18) + " destination\n"
        }
        for c in connections {
            let minutes = c.expires / 60, seconds = c.expires % 60
            let expire = twoDigits(minutes) + ":" + twoDigits(seconds)
            let head = IPVSAdmFormat.left(c.protocolName, 3) + " " + IPVSAdmFormat.left(expire, 6) + " "
                + IPVSAdmFormat.left(c.state, 11) + " " + IPVSAdmFormat.left(IPVSAdmFormat.endpoint(c.client, c.clientPort), 18) + " "
                + IPVSAdmFormat.left(IPVSAdmFormat.endpoint(c.virtual, c.virtualPort), 18) + " "
            let destination = IPVSAdmFormat.endpoint(c.destination, c.destinationPort)
            // ipvsadm reads the pe name and data with sscanf("%s"): one word each, both needed.
            if pe, let name = c.persistenceEngine, let data = c.persistenceData?.split(separator: " ").first {
                out += head + IPVSAdmFormat.left(destination, 16) + " " + IPVSAdmFormat.left(name, 18) + " " + data + "\n"
            } else {
                out += head + destination + "\n"
            }
        }
        return out
    }

    private static func twoDigits(_ n: UInt32) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
