import LVSModel

/// ipvsadm's listing order: libipvs's compare functions under glibc's qsort.
///
/// The compare functions subtract unsigned 32-bit values and read the result as
/// a signed int, so addresses more than 2^31 apart compare "backwards":
/// 192.168.0.1 sorts before 10.0.0.1.  The relation is not transitive, so the
/// result depends on the algorithm; glibc's qsort is a top-down merge sort
/// (msort), reproduced here so the order matches ipvsadm line for line.
enum IPVSAdmSorting {
    static func services(_ services: [ServiceStatus]) -> [ServiceStatus] {
        mergeSort(services) { compare($0.service.key, $1.service.key) }
    }

    static func realServers(_ servers: [RealServerStatus]) -> [RealServerStatus] {
        mergeSort(servers) { compare($0.server.identity, $1.server.identity) }
    }

    /// libipvs `ipvs_cmp_services`: fwmark, family, protocol, address, port.
    static func compare(_ a: ServiceKey, _ b: ServiceKey) -> Int {
        let (ma, mb) = (mark(a), mark(b))
        var r = Int(Int32(bitPattern: ma &- mb))
        if r != 0 { return r }
        r = Int(a.family.rawValue) - Int(b.family.rawValue)
        if r != 0 { return r }
        r = Int(a.l4Protocol?.rawValue ?? 0) - Int(b.l4Protocol?.rawValue ?? 0)
        if r != 0 { return r }
        r = compareAddresses(a.address, b.address, asIPv6: a.family == .v6)
        if r != 0 { return r }
        return Int(a.port) - Int(b.port)
    }

    /// libipvs `ipvs_cmp_dests`: address (words chosen by the first one's family), then port.
    static func compare(_ a: RealServerKey, _ b: RealServerKey) -> Int {
        let r = compareAddresses(a.address, b.address, asIPv6: a.address.family == .v6)
        if r != 0 { return r }
        return Int(a.port) - Int(b.port)
    }

    private static func mark(_ key: ServiceKey) -> UInt32 {
        if case .fwmark(let m, _) = key { return m }
        return 0
    }

    private static func compareAddresses(_ a: IPAddress, _ b: IPAddress, asIPv6: Bool) -> Int {
        let (wa, wb) = (words(a), words(b))
        let count = asIPv6 ? 4 : 1
        for i in 0..<count {
            let r = Int(Int32(bitPattern: wa[i] &- wb[i]))
            if r != 0 { return r }
        }
        return 0
    }

    /// The address as the kernel's `union nf_inet_addr` words in host order; IPv4 fills the first.
    private static func words(_ a: IPAddress) -> [UInt32] {
        switch a.family {
        case .v4: [a.v4Value, 0, 0, 0]
        case .v6: [UInt32(truncatingIfNeeded: a.high >> 32), UInt32(truncatingIfNeeded: a.high),
                   UInt32(truncatingIfNeeded: a.low >> 32), UInt32(truncatingIfNeeded: a.low)]
        }
    }

    /// glibc `msort_with_tmp`: split n/2, sort both halves, merge taking the left on `<= 0`.
    static func mergeSort<T>(_ items: [T], by compare: (T, T) -> Int) -> [T] {
        guard items.count > 1 else { return items }
        let n1 = items.count / 2
        let left = mergeSort(Array(items[..<n1]), by: compare)
        let right = mergeSort(Array(items[n1...]), by: compare)
        var out: [T] = []
        out.reserveCapacity(items.count)
        var i = 0, j = 0
        while i < left.count && j < right.count {
            if compare(left[i], right[j]) <= 0 {
                out.append(left[i]); i += 1
            } else {
                out.append(right[j]); j += 1
            }
        }
        out.append(contentsOf: left[i...])
        out.append(contentsOf: right[j...])
        return out
    }
}
