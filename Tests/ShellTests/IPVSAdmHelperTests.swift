import Testing
import LVSModel
@testable import Shell
import IPVSAdm
import Listings

@Suite struct CNumberParsingTests {
    @Test(arguments: [
        ("1.2.3.4", 0x0102_0304), ("10.1", 0x0a00_0001), ("10.1.2", 0x0a01_0002), ("0x7f000001", 0x7f00_0001),
        ("0177.0.0.1", 0x7f00_0001), ("4294967295", 0xffff_ffff), ("1.2.3.4 trailing", 0x0102_0304), ("0", 0),
    ] as [(String, UInt32)])
    func inetAtonAccepts(_ text: String, _ value: UInt32) {
        #expect(CNumberParsing.inetAton(text) == value)
    }

    @Test(arguments: ["", "1.2.3.256", "1.2.3.4.5", "08.0.0.1", "0x", "1..2", "a.b.c.d", " 1.2.3.4", "1.2.3.4x", "4294967296", "1.16777216"])
    func inetAtonRejects(_ text: String) {
        #expect(CNumberParsing.inetAton(text) == nil)
    }

    @Test func strtolLikeIPVSAdm() {
        #expect(CNumberParsing.number(" 80", in: 0...65535) == 80)
        #expect(CNumberParsing.number("+80", in: 0...65535) == 80)
        #expect(CNumberParsing.number("-0", in: 0...65535) == 0)
        #expect(CNumberParsing.number("080", in: 0...65535) == 80)
        #expect(CNumberParsing.number("80 ", in: 0...65535) == nil)
        #expect(CNumberParsing.number("0x50", in: 0...65535) == nil)
        #expect(CNumberParsing.number("", in: 0...65535) == nil)
        #expect(CNumberParsing.number("99999999999999999999", in: 0...65535) == nil)
        #expect(CNumberParsing.atoi("64abc") == 64)
        #expect(CNumberParsing.atoi("abc") == 0)
    }
}

@Suite struct IPVSAdmFormatTests {
    @Test(arguments: [
        (0, false, "        0"), (99_999_999, false, " 99999999"), (100_000_000, false, "  100000K"),
        (999_999_999, false, "  999999K"), (1_000_000_000, false, "    1000M"), (99_999_999_999, false, "   99999M"),
        (100_000_000_000, false, "     100G"), (99_999_999_999_999, false, "   99999G"), (100_000_000_000_000, false, "     100T"),
        (UInt64.max, false, "18446744T"), (12_345_678, true, " 12345678"), (123_456_789, true, " 123456789"),
        (UInt64.max, true, " 18446744073709551615"),
    ] as [(UInt64, Bool, String)])
    func largeNumbers(_ n: UInt64, _ exact: Bool, _ text: String) {
        #expect(IPVSAdmFormat.largeNumber(n, exact: exact) == text)
    }
}

@Suite struct IPVSAdmSortingTests {
    private func key(_ a: String, _ p: UInt16 = 80, _ proto: L4Protocol = .tcp) -> ServiceKey { .inet(proto, IPAddress(a)!, p) }

    /// libipvs subtracts unsigned addresses into an int: 10.x sorts after 192.168.x.
    @Test func addressComparisonWrapsLikeLibipvs() {
        #expect(IPVSAdmSorting.compare(key("10.0.0.1"), key("192.168.0.1")) > 0)
        #expect(IPVSAdmSorting.compare(key("10.0.0.1"), key("10.0.0.2")) < 0)
        #expect(IPVSAdmSorting.compare(key("10.0.0.1", 80, .udp), key("192.168.0.1", 80, .tcp)) > 0)
        #expect(IPVSAdmSorting.compare(.fwmark(5, .v4), key("10.0.0.1")) > 0)
        #expect(IPVSAdmSorting.compare(.fwmark(3_000_000_000, .v4), key("10.0.0.1")) < 0)
        #expect(IPVSAdmSorting.compare(.fwmark(5, .v4), .fwmark(5, .v6)) < 0)
    }

    @Test func mergeSortKeepsEqualItemsInOrder() {
        let items = [(1, "a"), (0, "b"), (1, "c"), (0, "d")]
        #expect(IPVSAdmSorting.mergeSort(items) { $0.0 - $1.0 }.map(\.1) == ["b", "d", "a", "c"])
    }
}

@Suite struct IPVSStateModelTests {
    @Test func predictsTheKernelsErrnos() {
        var model = IPVSStateModel(table: IPVSTable(), daemons: [], timeouts: .kernelDefault)
        let key = ServiceKey.inet(.tcp, IPAddress("10.0.0.1")!, 80)
        let r = RealServer(address: IPAddress("10.0.0.2")!, port: 80)
        #expect(model.apply(.addRealServer(key, r)) == 3)
        #expect(model.apply(.addService(VirtualService(key: key))) == nil)
        #expect(model.apply(.addService(VirtualService(key: key))) == 17)
        #expect(model.apply(.addRealServer(key, r)) == nil)
        #expect(model.apply(.addRealServer(key, r)) == 17)
        #expect(model.apply(.editRealServer(key, RealServer(address: r.address, port: 81))) == 2)
        #expect(model.apply(.addRealServer(key, RealServer(address: IPAddress("2001:db8::1")!, port: 80))) == 22)
        #expect(model.apply(.addRealServer(key, RealServer(address: IPAddress("2001:db8::1")!, port: 80, forwarding: .tunnel))) == nil)
        #expect(model.apply(.startDaemon(SyncDaemon(role: .master, interface: "eth0"))) == 22, "mixed families block sync")
        #expect(model.apply(.stopDaemon(.master)) == 3)
        #expect(model.apply(.editService(VirtualService(key: key, scheduler: "nope"))) == 2)
    }

    /// The table read back is the table given, its real servers shared, not copied, until an
    /// operation changes them (a reload of 10,000 services copied them all into the model and out);
    /// changes to real servers keep each real server's counters with it.
    @Test func countersStayWithTheirRealServersWhereverTheyAreKept() {
        let counted = ServiceKey.inet(.tcp, IPAddress("10.0.0.1")!, 80), zeros = ServiceKey.inet(.tcp, IPAddress("10.0.0.1")!, 443)
        func real(_ n: Int) -> RealServer { RealServer(address: IPAddress("10.0.1.\(n)")!, port: 80, forwarding: .masquerade) }
        var stats = Stats()
        stats.connections = 7
        let table = IPVSTable(services: [
            ServiceStatus(service: VirtualService(key: counted), realServers: [
                RealServerStatus(server: real(1)), RealServerStatus(server: real(2), activeConnections: 3, stats: stats)]),
            ServiceStatus(service: VirtualService(key: zeros), realServers: [RealServerStatus(server: real(1))]),
        ])
        var model = IPVSStateModel(table: table, daemons: [], timeouts: .kernelDefault)
        #expect(model.table == table)
        func storage(_ t: IPVSTable, _ i: Int) -> UnsafePointer<RealServerStatus>? { t.services[i].realServers.withUnsafeBufferPointer(\.baseAddress) }
        #expect(storage(model.table, 0) == storage(table, 0) && storage(model.table, 1) == storage(table, 1))
        #expect(model.apply(.editService(VirtualService(key: zeros, scheduler: "rr"))) == nil)
        #expect(storage(model.table, 1) == storage(table, 1), "a service's settings change, its real servers stay shared")
        #expect(model.apply(.deleteRealServer(counted, real(1).identity)) == nil)
        #expect(storage(model.table, 0) != storage(table, 0))
        #expect(table.services[0].realServers.count == 2, "the table given is not changed")
        #expect(model.apply(.addRealServer(zeros, real(3))) == nil)
        #expect(model.apply(.addRealServer(counted, real(4))) == nil)
        let after = model.table
        #expect(after.services[0].realServers.map(\.activeConnections) == [3, 0])
        #expect(after.services[0].realServers.map(\.stats.connections) == [7, 0])
        #expect(after.services[1].realServers.map(\.server.address) == [real(1).address, real(3).address])
        #expect(after.services[1].realServers.allSatisfy { $0.stats == Stats() && $0.activeConnections == 0 })
        #expect(model.apply(.zero(nil)) == nil)
        #expect(model.table.services[0].realServers.map(\.stats.connections) == [0, 0])
        #expect(model.table.services[0].realServers.map(\.activeConnections) == [3, 0], "zero leaves connection counts")
    }

    /// The table a model gives up (a daemon keeps it for its life) holds no array of real servers or
    /// of services with much more room than it needs, however the array grew or was reserved.
    @Test func aTakenTableHasNoSpareRoom() {
        let key = ServiceKey.inet(.tcp, IPAddress("10.0.0.1")!, 80)
        var model = IPVSStateModel(table: IPVSTable(), daemons: [], timeouts: .kernelDefault)
        #expect(model.apply(.addService(VirtualService(key: key))) == nil)
        for n in 1...100 {
            #expect(model.apply(.addRealServer(key, RealServer(address: IPAddress("10.0.1.\(n)")!, port: 80, forwarding: .masquerade))) == nil)
        }
        let reals = model.takeTable().services[0].realServers
        #expect(reals.count == 100)
        #expect(reals.capacity - reals.count <= reals.count / 8)
        #expect(model.serviceCount == 0)
        // Nor an array of services with room reserved for three times as many.
        model.reserveCapacity(services: 300)
        for n in 1...100 { #expect(model.apply(.addService(VirtualService(key: .inet(.tcp, IPAddress("10.0.2.\(n)")!, 80)))) == nil) }
        let services = model.takeTable().services
        #expect(services.count == 100 && services.capacity - services.count <= services.count / 8)
    }

    /// A deleted service leaves the table, and one added again under its key takes its new place,
    /// whatever else is done; with nothing deleted, the table is the model's own array, not a copy.
    @Test func deletedServicesLeaveTheTable() {
        func key(_ n: Int) -> ServiceKey { .inet(.tcp, IPAddress("10.0.0.\(n)")!, 80) }
        let real = RealServer(address: IPAddress("10.0.1.1")!, port: 80, forwarding: .masquerade)
        var model = IPVSStateModel(table: IPVSTable(), daemons: [], timeouts: .kernelDefault)
        for n in 1...4 { #expect(model.apply(.addService(VirtualService(key: key(n)))) == nil) }
        #expect(model.apply(.addRealServer(key(2), real)) == nil)
        let whole = model.table.services
        whole.withUnsafeBufferPointer { a in model.table.services.withUnsafeBufferPointer { b in #expect(a.baseAddress == b.baseAddress) } }
        #expect(model.apply(.deleteService(key(2))) == nil)
        #expect(model.apply(.deleteService(key(2))) == IPVSStateModel.Errno.srch)
        #expect(model.apply(.addRealServer(key(2), real)) == IPVSStateModel.Errno.srch)
        #expect(model.apply(.addService(VirtualService(key: key(2)))) == nil)
        #expect(model.apply(.zero(nil)) == nil)
        #expect(model[key(2)]?.realServers.isEmpty == true)
        #expect(model.table.services.map(\.service.key) == [key(1), key(3), key(4), key(2)])
        #expect(whole.map(\.service.key) == [key(1), key(2), key(3), key(4)] && whole[1].realServers.count == 1)
        #expect(model.serviceCount == 4)
        #expect(model.takeTable().services.map(\.service.key) == [key(1), key(3), key(4), key(2)])
        #expect(model.table.services.isEmpty)
    }

    @Test func inverseOfFlushRecreatesEverything() {
        let key = ServiceKey.fwmark(7, .v4)
        let r = RealServer(address: IPAddress("10.0.0.2")!, port: 0, forwarding: .masquerade, weight: 3)
        let table = IPVSTable(services: [ServiceStatus(service: VirtualService(key: key, flags: [.persistent, .hashed], timeout: 60),
                                                      realServers: [RealServerStatus(server: r)])])
        let model = IPVSStateModel(table: table, daemons: [], timeouts: .kernelDefault)
        #expect(model.inverse(of: .flush) == [.addService(VirtualService(key: key, flags: .persistent, timeout: 60)), .addRealServer(key, r)])
    }
}
