import LVSModel

/// ipvsadm's listing order: libipvs's compare functions under glibc's qsort.
///
/// The compare functions subtract unsigned 32-bit values and read the result as
/// a signed int, so addresses more than 2^31 apart compare "backwards":
/// 192.168.0.1 sorts before 10.0.0.1.  The relation is not transitive, so the
/// result depends on the algorithm; glibc's qsort is a top-down merge sort
/// (msort), reproduced here so the order matches ipvsadm line for line.
///
/// Listings sort 10,000 services: the compared fields are taken out of each
/// element once, and the sort moves indices, not elements.
package enum IPVSAdmSorting {
    package static func services(_ services: [ServiceStatus]) -> [ServiceStatus] {
        serviceOrder(services).map { services[$0] }
    }

    /// The indices of `services` in listing order: listings walk them rather than copy the table.
    package static func serviceOrder(_ services: [ServiceStatus]) -> [Int] {
        var order = Array(services.indices)
        let keys = services.map { ServiceSortKey($0.service.key) }
        keys.withUnsafeBufferPointer { k in order.withUnsafeMutableBufferPointer { sortIndices($0, by: k) } }
        return order
    }

    package static func realServers(_ servers: [RealServerStatus]) -> [RealServerStatus] {
        guard servers.count > 1 else { return servers }
        var sorted: [RealServerStatus] = []
        sorted.reserveCapacity(servers.count)
        withRealServerOrder(servers) { order in
            for i in order { sorted.append(servers[i]) }
        }
        return sorted
    }

    /// Calls `body` with the indices of `servers` in listing order, kept in temporary memory:
    /// a listing sorts the real servers of each of its services.
    package static func withRealServerOrder(_ servers: [RealServerStatus], _ body: (UnsafeBufferPointer<Int>) -> Void) {
        let n = servers.count
        withUnsafeTemporaryAllocation(of: RealServerSortKey.self, capacity: n) { keys in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { order in
                for i in 0..<n {
                    (keys.baseAddress! + i).initialize(to: RealServerSortKey(servers[i].server.identity))
                    order[i] = i
                }
                sortIndices(order, by: UnsafeBufferPointer(keys))
                body(UnsafeBufferPointer(order))
            }
        }
    }

    /// libipvs `ipvs_cmp_services`: fwmark, family, protocol, address, port.
    package static func compare(_ a: ServiceKey, _ b: ServiceKey) -> Int {
        compare(ServiceSortKey(a), ServiceSortKey(b))
    }

    /// libipvs `ipvs_cmp_dests`: address (words chosen by the first one's family), then port.
    static func compare(_ a: RealServerKey, _ b: RealServerKey) -> Int {
        compare(RealServerSortKey(a), RealServerSortKey(b))
    }

    /// What a compare function reads of an element, and the compare function.
    protocol SortKey {
        static func compare(_ a: Self, _ b: Self) -> Int
    }

    /// What `ipvs_cmp_services` reads of a service. Kept to 28 bytes: a listing of 10,000 services
    /// holds a key for each, and every page of them is a first touch (≈70 µs in user-mode-linux).
    struct ServiceSortKey: SortKey {
        var address: AddressWords
        var mark: UInt32
        var port: UInt16
        var family: UInt8
        var proto: UInt8

        static func compare(_ a: Self, _ b: Self) -> Int { IPVSAdmSorting.compare(a, b) }

        init(_ key: ServiceKey) {
            if case .fwmark(let m, _) = key { mark = m } else { mark = 0 }
            family = UInt8(truncatingIfNeeded: key.family.rawValue)
            proto = UInt8(truncatingIfNeeded: key.l4Protocol?.rawValue ?? 0)
            address = AddressWords(key.address)
            port = key.port
        }
    }

    /// What `ipvs_cmp_dests` reads of a real server.
    struct RealServerSortKey: SortKey {
        var address: AddressWords
        var port: Int

        static func compare(_ a: Self, _ b: Self) -> Int { IPVSAdmSorting.compare(a, b) }

        init(_ key: RealServerKey) {
            address = AddressWords(key.address)
            port = Int(key.port)
        }
    }

    /// The address as the kernel's `union nf_inet_addr` words in host order; IPv4 fills the first.
    struct AddressWords {
        var w0: UInt32, w1: UInt32, w2: UInt32, w3: UInt32
        var isIPv6: Bool

        init(_ a: IPAddress) {
            switch a.family {
            case .v4:
                (w0, w1, w2, w3) = (a.v4Value, 0, 0, 0)
            case .v6:
                (w0, w1) = (UInt32(truncatingIfNeeded: a.high >> 32), UInt32(truncatingIfNeeded: a.high))
                (w2, w3) = (UInt32(truncatingIfNeeded: a.low >> 32), UInt32(truncatingIfNeeded: a.low))
            }
            isIPv6 = a.family == .v6
        }
    }

    static func compare(_ a: ServiceSortKey, _ b: ServiceSortKey) -> Int {
        var r = difference(a.mark, b.mark)
        if r != 0 { return r }
        r = Int(a.family) - Int(b.family)
        if r != 0 { return r }
        r = Int(a.proto) - Int(b.proto)
        if r != 0 { return r }
        r = compareAddresses(a.address, b.address, asIPv6: a.family == UInt8(truncatingIfNeeded: IPAddress.Family.v6.rawValue))
        if r != 0 { return r }
        return Int(a.port) - Int(b.port)
    }

    static func compare(_ a: RealServerSortKey, _ b: RealServerSortKey) -> Int {
        let r = compareAddresses(a.address, b.address, asIPv6: a.address.isIPv6)
        if r != 0 { return r }
        return a.port - b.port
    }

    /// C's `(int)(a - b)` on unsigned 32-bit values.
    private static func difference(_ a: UInt32, _ b: UInt32) -> Int { Int(Int32(bitPattern: a &- b)) }

    private static func compareAddresses(_ a: AddressWords, _ b: AddressWords, asIPv6: Bool) -> Int {
        var r = difference(a.w0, b.w0)
        if r != 0 || !asIPv6 { return r }
        r = difference(a.w1, b.w1)
        if r != 0 { return r }
        r = difference(a.w2, b.w2)
        if r != 0 { return r }
        return difference(a.w3, b.w3)
    }

    /// glibc `msort_with_tmp`: split n/2, sort both halves, merge taking the left on `<= 0`.
    package static func mergeSort<T>(_ items: [T], by compare: (T, T) -> Int) -> [T] {
        var order = Array(items.indices)
        withoutActuallyEscaping({ compare(items[$0], items[$1]) }) { byIndex in
            order.withUnsafeMutableBufferPointer { o in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: o.count) { tmp in
                    msort(o.baseAddress!, o.count, tmp.baseAddress!, ClosureComparer(compare: byIndex))
                }
            }
        }
        return order.map { items[$0] }
    }

    /// Sorts indices into `keys` as `mergeSort` sorts elements, with the keys' own compare function
    /// called directly (a listing makes 140,000 comparisons for 10,000 services).
    static func sortIndices<K: SortKey>(_ order: UnsafeMutableBufferPointer<Int>, by keys: UnsafeBufferPointer<K>) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: order.count) { tmp in
            msort(order.baseAddress!, order.count, tmp.baseAddress!, KeyComparer(keys: keys))
        }
    }

    /// How `msort` compares two elements by index.
    protocol Comparer {
        func compare(_ i: Int, _ j: Int) -> Int
    }

    struct KeyComparer<K: SortKey>: Comparer {
        let keys: UnsafeBufferPointer<K>
        func compare(_ i: Int, _ j: Int) -> Int { K.compare(keys[i], keys[j]) }
    }

    struct ClosureComparer: Comparer {
        let compare: (Int, Int) -> Int
        func compare(_ i: Int, _ j: Int) -> Int { compare(i, j) }
    }

    /// Specialized for each comparer, so that the keys' compare function is called directly.
    private static func msort<C: Comparer>(_ b: UnsafeMutablePointer<Int>, _ n: Int, _ tmp: UnsafeMutablePointer<Int>, _ c: C) {
        guard n > 1 else { return }
        let n1 = n / 2
        let n2 = n - n1
        let b2 = b + n1
        msort(b, n1, tmp, c)
        msort(b2, n2, tmp, c)
        var i = 0, j = 0, k = 0
        while i < n1 && j < n2 {
            if c.compare(b[i], b2[j]) <= 0 {
                tmp[k] = b[i]; i += 1
            } else {
                tmp[k] = b2[j]; j += 1
            }
            k += 1
        }
        while i < n1 { tmp[k] = b[i]; i += 1; k += 1 }
        // What remains of the right half is already in place, as glibc leaves it.
        b.update(from: tmp, count: k)
    }
}
