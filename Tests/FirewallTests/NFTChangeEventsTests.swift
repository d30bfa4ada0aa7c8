import CNetlink
import Foundation
import Testing
@testable import Firewall
import LVSModel

/// The reading of nftables' change notifications: which commits the daemon takes for drift in its table.
struct NFTChangeEventsTests {
    /// One netlink message of nf_tables: header, nfgenmsg, attributes.
    static func message(_ type: nf_tables_msg_types, family: Int = NFPROTO_INET, _ attributes: [(UInt16, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = [UInt8(family), 0, 0, 0]
        for (kind, value) in attributes {
            let length = 4 + value.count
            body += withUnsafeBytes(of: UInt16(length).littleEndian, Array.init) + withUnsafeBytes(of: kind.littleEndian, Array.init) + value
            body += Array(repeating: 0, count: (4 - length % 4) % 4)
        }
        let length = 16 + body.count
        return withUnsafeBytes(of: UInt32(length).littleEndian, Array.init) + withUnsafeBytes(of: NFTSocket.messageType(type).littleEndian, Array.init)
            + [0, 0] + Array(repeating: 0, count: 8) + body
    }

    static func name(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

    static func generation(pid: UInt32?, process: String = "nft") -> [UInt8] {
        var attributes: [(UInt16, [UInt8])] = [(UInt16(NFTA_GEN_ID.rawValue), withUnsafeBytes(of: UInt32(7).bigEndian, Array.init))]
        if let pid { attributes.append((UInt16(NFTA_GEN_PROC_PID.rawValue), withUnsafeBytes(of: pid.bigEndian, Array.init))) }
        attributes.append((UInt16(NFTA_GEN_PROC_NAME.rawValue), name(process)))
        return message(NFT_MSG_NEWGEN, family: 0, attributes)
    }

    static func element(table: String, family: Int = NFPROTO_INET) -> [UInt8] {
        message(NFT_MSG_DELSETELEM, family: family, [(1, name(table)), (2, name("v4_ports"))])
    }

    func feed(_ events: inout NFTChangeEvents, _ datagrams: [[UInt8]]) -> [NFTChangeEvents.Commit?] {
        datagrams.map { d in d.withUnsafeBytes { events.feed($0) } }
    }

    @Test("another process's commit to table inet lvsh is reported with its pid and name; lvsh's own, other tables' and other families' are not")
    func whichCommits() {
        var events = NFTChangeEvents(isOwn: { $0 == 100 })
        #expect(feed(&events, [Self.element(table: "lvsh"), Self.generation(pid: 4242)]) == [nil, .init(pid: 4242, process: "nft")])
        #expect(feed(&events, [Self.element(table: "lvsh"), Self.generation(pid: 100, process: "lvsh")]) == [nil, nil])
        #expect(feed(&events, [Self.element(table: "filter"), Self.generation(pid: 4242)]) == [nil, nil])
        #expect(feed(&events, [Self.element(table: "lvsh", family: NFPROTO_IPV4), Self.generation(pid: 4242)]) == [nil, nil])
        // A generation ends its commit: the next commit, of another table, is not taken for this one.
        #expect(feed(&events, [Self.generation(pid: 4242)]) == [nil])
        // The kernel puts several notifications in one datagram.
        #expect(feed(&events, [Self.element(table: "filter") + Self.element(table: "lvsh") + Self.generation(pid: 9)]) == [.init(pid: 9, process: "nft")])
        // A kernel that does not say who committed (before Linux 5.1): taken for another process.
        #expect(feed(&events, [Self.element(table: "lvsh"), Self.generation(pid: nil)]) == [nil, .init(pid: nil, process: "nft")])
        #expect(NFTChangeEvents.Commit(pid: 9, process: "nft").description == "nft (pid 9)")
    }

    @Test("a datagram that cannot be read counts as a foreign commit, and the reading goes on")
    func unreadable() {
        var events = NFTChangeEvents(isOwn: { $0 == 100 })
        let cut = Array(Self.element(table: "lvsh").dropLast(3))
        #expect(feed(&events, [cut]) == [.init(pid: nil, process: nil)])
        #expect(feed(&events, [Self.element(table: "filter"), Self.generation(pid: 5)]) == [nil, nil])
    }

    @Test(
        "on this kernel: nft's commit to lvsh's table is heard with its pid, lvsh's own writes and other tables are not",
        .enabled(if: NFTLab.available, "needs root and nft"))
    func onTheKernel() throws {
        let ns = try NFTTestNamespace()
        let fd = try NFTChangeEvents.openSocket(networkNamespace: ns.path)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var events = NFTChangeEvents()
        /// The commits heard until `generations` generations have come (each commit ends with one).
        func heard(generations: Int) -> [NFTChangeEvents.Commit] {
            var out: [NFTChangeEvents.Commit] = []
            var seen = 0
            var buffer = [UInt8](repeating: 0, count: 65536)
            while seen < generations {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { break }
                let datagram = UnsafeRawBufferPointer(rebasing: buffer.withUnsafeBytes { $0 }[0..<n])
                seen += Self.generationsIn(datagram)
                if let c = events.feed(datagram) { out.append(c) }
            }
            return out
        }
        let nft = try NFTablesBackend(networkNamespace: ns.path)
        _ = try nft.update { _ in [.put(PortGroup(name: "web", mark: 1000, entries: [
            PortGroupEntry(address: IPAddress("192.0.2.10"), protocol: .tcp, ports: 80...80)]))] }
        #expect(heard(generations: 1).isEmpty, "lvsh's own commit")
        try ns.nft("add table inet other")
        #expect(heard(generations: 1).isEmpty, "another table")
        try ns.nft("delete element inet lvsh v4_ports '{ 192.0.2.10 . tcp . 80 }'")
        let commits = heard(generations: 1)
        #expect(commits.count == 1 && commits.first?.process == "nft" && commits.first?.pid != nil, "\(commits)")
    }

    /// How many generations (commits' ends) a datagram holds.
    static func generationsIn(_ d: UnsafeRawBufferPointer) -> Int {
        var offset = 0, count = 0
        while offset + 16 <= d.count {
            let length = Int(d.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = d.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            if type == NFTSocket.messageType(NFT_MSG_NEWGEN) { count += 1 }
            guard length >= 16 else { break }
            offset += (length + 3) & ~3
        }
        return count
    }
}
