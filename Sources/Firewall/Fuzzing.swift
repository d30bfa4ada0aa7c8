import LVSModel

/// The entry point for the nftables part of the `netlink` libFuzzer harness in tools/fuzz and of the
/// test that replays its corpus (Tests/FirewallTests/FuzzCorpusTests.swift): the byte fields of a set
/// element as libnftnl hands them over from a GETSETELEM reply, which lvsh reads itself.
public enum FirewallFuzzEntry {
    /// The first byte picks the map (byte % 9: lvsh's six maps, then the three of earlier versions) and
    /// for an earlier map the key order ((byte / 9) % 3); then come the key,
    /// the key end, the data and the userdata, each as one length byte and that many bytes (length
    /// 255: absent). Fields missing at the end are absent. Traps (`fatalError`) only where an element
    /// read as an entry would not be written back with the same key.
    public static func decodeElement(_ bytes: UnsafeRawBufferPointer) {
        guard let selector = bytes.first else { return }
        var fields: [UnsafeRawBufferPointer?] = []
        var i = 1
        while fields.count < 4 {
            guard i < bytes.count, bytes[i] != 255 else {
                fields.append(nil)
                i += 1
                continue
            }
            let length = Int(bytes[i])
            let end = min(bytes.count, i + 1 + length)
            fields.append(UnsafeRawBufferPointer(rebasing: bytes[(i + 1)..<end]))
            i = end
        }
        if let data = fields[2] { _ = NFTElementCodec.mark(from: data) }
        if let userdata = fields[3] { _ = NFTUserdata.comment(in: userdata) }
        guard let k = fields[0], let key = NFTKey(bytes: k) else { return }
        let keyEnd = fields[1].flatMap { NFTKey(bytes: $0) }
        let pick = Int(selector) % 9
        guard pick < NFTMap.allCases.count else {
            let order = NFTKeyOrder.allCases[(Int(selector) / 9) % 3]
            _ = NFTElementCodec.entry(in: NFTEarlierMap.allCases[pick - NFTMap.allCases.count], order: order, key: key, keyEnd: keyEnd)
            return
        }
        let map = NFTMap.allCases[pick]
        guard let entry = NFTElementCodec.entry(in: map, key: key, end: keyEnd) else { return }
        let written = NFTElementCodec.keys(of: entry)
        guard written.map == map, written.key == key, written.end == keyEnd else {
            fatalError("the element \(key.bytes) \(keyEnd?.bytes ?? []) reads as \(entry), which is written as \(written.key.bytes) \(written.end?.bytes ?? [])")
        }
    }
}
