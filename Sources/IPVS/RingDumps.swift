#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import IOURing
import LVSModel

/// The real servers of many services, each its own GET_DEST dump, with few system calls: the
/// requests and receives go through io_uring, `width` services (one netlink socket each) a round.
///
/// Listings need this where /proc/net/ip_vs leaves services out: the kernel (6.1) walks every
/// namespace's services for that file but restarts each read by counting only this namespace's,
/// so when another namespace holds services, a read skips as many of ours as it passed of theirs
/// (10,000 services beside another namespace's 10,000: 5,500 left out). One dump each then cost
/// a sendto and a recvmmsg, ≈40 µs in user-mode-linux.
///
/// A netlink socket runs one dump at a time and answers a GET_DEST dump with the servers (one
/// datagram while it is small), then, when that datagram is read, queues NLMSG_DONE. So each
/// socket's chain in a round is: receive the DONE left by the previous round (if one was left),
/// send the request, receive the servers, hard-linked so they run in that order. Every receive
/// then finds its datagram already queued and never waits. Anything else than that (a datagram
/// larger than the buffer, an error, a sequence number out of place) leaves the service to the
/// caller's one-by-one dump and the socket is replaced. Where io_uring is missing, everything is.
enum RingDumps {
    /// Below this many services the sockets and the ring cost more than they save.
    static let minimum = 16
    /// From this many services on, a listing reads every service's real servers here rather than
    /// from /proc/net/ip_vs (see `IPVSClient.table(_:)`). Measured in user-mode-linux, medians of
    /// `lvsh ipvsadm -S -n`: 10,000 services x 4 alone in the kernel, 0.42 s with the dumps against
    /// 0.58 s with the file; beside two other namespaces' 11,000, 0.62 s against 0.94 s; at 1,000
    /// services, 0.18 s against 0.20 s. Smaller tables fit the file in a few reads.
    static let listingMinimum = 1000
    /// Sockets, so services, per round.
    static let width = 64
    /// Bytes per receive: a dump's first datagram this small held all its servers (the kernel
    /// fills datagrams of at least 4 KiB before it starts another).
    private static let slot = 2048
    private static let doneSlot = 256
    private static let requestSlot = 256

    /// One entry per key: the real servers, or nil where the caller must dump the service itself.
    /// Without `counters` their stats are left zero (see `IPVSDecoding.service(_:counters:)`).
    static func realServers(of keys: [ServiceKey], family: UInt16, counters: Bool = true) -> [[RealServerStatus]?] {
        var results = [[RealServerStatus]?](repeating: nil, count: keys.count)
        guard !keys.isEmpty, let ring = IOURing(entries: UInt32(3 * width)) else { return results }
        defer { ring.close() }
        let w = min(width, keys.count)
        var sockets = [Int32](repeating: -1, count: w)
        defer { for fd in sockets where fd >= 0 { Glibc.close(fd) } }
        /// Per socket: the sequence number of a DONE it holds queued.
        var leftDone = [UInt32?](repeating: nil, count: w)
        // Raw memory, not an array: if a round is abandoned with receives still pending, the kernel
        // may yet write into it, so it is then never freed.
        let stride = slot + doneSlot + requestSlot
        let base = UnsafeMutableRawPointer.allocate(byteCount: w * stride, alignment: 16)
        var abandoned = false
        defer { if !abandoned { base.deallocate() } }
        var sequence: UInt32 = 0x4c56_0000
        var writer = NetlinkWriter(capacity: requestSlot)
        var start = 0
        while start < keys.count {
            let end = min(start + w, keys.count)
            var sequences = [UInt32](repeating: 0, count: end - start)
            var requestLengths = [Int](repeating: 0, count: end - start)
            var results3 = [Int32?](repeating: nil, count: 3 * (end - start))
            var submitted = 0
            let ok: Bool = {
                for j in 0..<(end - start) {
                    if sockets[j] < 0 {
                        sockets[j] = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_GENERIC)
                        leftDone[j] = nil
                        if sockets[j] < 0 { return false }
                    }
                    sequence &+= 1
                    sequences[j] = sequence
                    writer.removeAll()
                    writer.beginGeneric(family: family, flags: NetlinkConstant.request | NetlinkConstant.dump, sequence: sequence,
                                        command: UInt8(IPVS_CMD_GET_DEST), version: IPVSEncoding.version)
                    IPVSEncoding.serviceKey(keys[start + j], into: &writer)
                    writer.endMessage()
                    let request = writer.bytes
                    guard request.count <= requestSlot else { return false }
                    let slots = base + j * stride
                    request.withUnsafeBytes { slots.advanced(by: slot + doneSlot).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    requestLengths[j] = request.count
                    let fd = sockets[j]
                    if leftDone[j] != nil {
                        ring.push(opcode: IOURing.Op.recv, fd: fd, buffer: slots + slot, length: doneSlot, flags: IOURing.Flag.hardLink, data: UInt64(3 * j))
                        submitted += 1
                    }
                    ring.push(opcode: IOURing.Op.send, fd: fd, buffer: slots + slot + doneSlot, length: request.count,
                              flags: IOURing.Flag.hardLink, data: UInt64(3 * j + 1))
                    ring.push(opcode: IOURing.Op.recv, fd: fd, buffer: slots, length: slot, flags: 0, data: UInt64(3 * j + 2))
                    submitted += 2
                }
                if ring.submitAndWait(submitted, { data, res in results3[Int(data)] = res }) { return true }
                abandoned = true
                return false
            }()
            guard ok else { return results }
            do {
                for j in 0..<(end - start) {
                    let slots = UnsafeRawPointer(base + j * stride)
                    var good = true
                    if let done = leftDone[j] {
                        good = Self.isDone(slots + slot, results3[3 * j], sequence: done)
                    }
                    good = good && results3[3 * j + 1] == Int32(requestLengths[j])
                    var servers: [RealServerStatus] = []
                    var sawDone = false
                    if good, let n = results3[3 * j + 2], n > 0, Int(n) <= slot {
                        let bytes = Array(UnsafeRawBufferPointer(start: slots, count: Int(n)))
                        let family = keys[start + j].family
                        NetlinkMessage.forEach(in: bytes[...]) { m in
                            guard good, m.sequence == sequences[j], !sawDone else { good = false; return }
                            switch m.type {
                            case NetlinkConstant.done: sawDone = true
                            case NetlinkConstant.error, NetlinkConstant.noop: good = false
                            default:
                                do throws(LVSError) { servers.append(try IPVSDecoding.realServer(m, serviceFamily: family, counters: counters)) } catch { good = false }
                            }
                        }
                    } else {
                        good = false
                    }
                    if good {
                        results[start + j] = servers
                        leftDone[j] = sawDone ? nil : sequences[j]
                    } else {
                        Glibc.close(sockets[j])
                        sockets[j] = -1
                    }
                }
            }
            start = end
        }
        return results
    }

    /// Whether a receive got exactly one NLMSG_DONE of `sequence`.
    private static func isDone(_ p: UnsafeRawPointer, _ res: Int32?, sequence: UInt32) -> Bool {
        guard let res, res >= 16, Int(res) <= doneSlot else { return false }
        let length = p.loadUnaligned(as: UInt32.self)
        return Int(length) == Int(res) && p.loadUnaligned(fromByteOffset: 4, as: UInt16.self) == NetlinkConstant.done
            && p.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == sequence
    }
}
