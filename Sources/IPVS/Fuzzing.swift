import CNetlink
import LVSModel

/// The entry point of the `netlink` libFuzzer harness in tools/fuzz and of the test that replays its
/// corpus (Tests/IPVSTests/FuzzCorpusTests.swift): any bytes, read as a netlink receive buffer, must
/// decode without a crash. Traps (`fatalError`) only where two readings of the same bytes disagree.
public enum IPVSFuzzEntry {
    /// Splits the bytes into messages as a receive does and reads each one with every decoder of an
    /// IPVS reply (service, destination of either family, daemon, timeouts, info, error code). Checks
    /// that the in-place attribute tables read what `NetlinkAttributes` reads, and that a decoded
    /// service, destination or daemon encodes to attributes that decode to it again.
    public static func decodeReply(_ bytes: UnsafeRawBufferPointer) {
        let buffer = Array(bytes)[...]
        let messages = NetlinkMessage.split(buffer)
        var count = 0
        NetlinkMessage.forEach(in: buffer) { _ in count += 1 }
        guard count == messages.count else { fatalError("split and forEach find different messages") }
        for m in messages {
            _ = m.errorCode
            checkTables(m)
            if let (service, _) = try? IPVSDecoding.service(m) {
                let again = try? IPVSDecoding.service(encoded(.addService(service)))
                guard again?.0 == service else { fatalError("\(service) decodes as \(String(describing: again?.0)) once encoded") }
            }
            for family in [IPAddress.Family.v4, .v6] {
                guard let status = try? IPVSDecoding.realServer(m, serviceFamily: family) else { continue }
                let key = ServiceKey.fwmark(1, family)
                let again = try? IPVSDecoding.realServer(encoded(.addRealServer(key, status.server)), serviceFamily: family)
                guard again?.server == status.server else {
                    fatalError("\(status.server) decodes as \(String(describing: again?.server)) once encoded")
                }
            }
            if let daemon = IPVSDecoding.daemon(m) {
                let again = IPVSDecoding.daemon(encoded(.startDaemon(daemon)))
                guard again == daemon else { fatalError("\(daemon) decodes as \(String(describing: again)) once encoded") }
            }
            _ = IPVSDecoding.timeouts(m)
            _ = IPVSDecoding.info(m)
        }
    }

    private static func encoded(_ op: IPVSOperation) -> NetlinkMessage {
        var w = NetlinkWriter()
        w.beginGeneric(family: 0x1c, flags: 0, sequence: 1, command: IPVSEncoding.command(for: op), version: IPVSEncoding.version)
        IPVSEncoding.attributes(of: op, into: &w)
        w.endMessage()
        return NetlinkMessage.split(w.bytes[...])[0]
    }

    /// `AttributeTable` and `NetlinkAttributes` hold the same attributes, at the top level and in the
    /// nested service, destination and daemon.
    private static func checkTables(_ m: NetlinkMessage) {
        let maxType = __IPVS_CMD_ATTR_MAX - 1
        let top = NetlinkAttributes(m.payload.dropFirst(4), maxType: maxType)
        m.payload.withUnsafeBufferPointer { p in
            AttributeTable.withAttributes(UnsafeBufferPointer(rebasing: p.dropFirst(4)), maxType: maxType) { table in
                same(top, table, maxType: maxType)
                for (type, nestedMax) in [(IPVS_CMD_ATTR_SERVICE, __IPVS_SVC_ATTR_MAX - 1), (IPVS_CMD_ATTR_DEST, __IPVS_DEST_ATTR_MAX - 1),
                                          (IPVS_CMD_ATTR_DAEMON, __IPVS_DAEMON_ATTR_MAX - 1)] {
                    guard let slice = top[type], let raw = table[type] else { continue }
                    let nested = NetlinkAttributes(slice, maxType: nestedMax)
                    AttributeTable.withAttributes(raw, maxType: nestedMax) { same(nested, $0, maxType: nestedMax) }
                }
            }
        }
    }

    private static func same(_ a: NetlinkAttributes, _ t: AttributeTable, maxType: Int) {
        for type in 0...(maxType + 1) {
            let x = a[type].map(Array.init), y = t[type].map(Array.init)
            guard x == y else { fatalError("attribute \(type): NetlinkAttributes reads \(String(describing: x)), AttributeTable \(String(describing: y))") }
        }
    }
}
