#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// Where netlink bytes go: the kernel, or a recorder in tests.
public protocol NetlinkTransport: AnyObject {
    /// The generic-netlink family id the messages are addressed to.
    var familyID: UInt16 { get }
    /// Sends one buffer (any number of messages) with one sendmsg.
    func send(_ bytes: [UInt8]) throws(LVSError)
    /// Receives one datagram's messages.
    func receive() throws(LVSError) -> [NetlinkMessage]
    /// Receives one datagram, and any more already queued behind it, and hands their messages to
    /// `body` in order. A socket can then reuse its buffers for every datagram of a dump instead of
    /// copying each one (a dump can be 10,000 messages), and take several datagrams per system call.
    func receive(each body: (NetlinkMessage) throws(LVSError) -> Void) throws(LVSError)
}

extension NetlinkTransport {
    public func receive(each body: (NetlinkMessage) throws(LVSError) -> Void) throws(LVSError) {
        for m in try receive() { try body(m) }
    }
}

/// A generic-netlink socket opened and resolved with libnl-genl-3; messages then go through its descriptor
/// directly, so that one sendmsg can carry hundreds of requests.
public final class GenericNetlinkSocket: NetlinkTransport {
    public let familyID: UInt16
    private let socket: OpaquePointer
    private let fd: Int32
    /// `slots` receive buffers of `slotSize` bytes, back to back. The kernel makes dump datagrams of at
    /// most 32 KiB less its overhead (netlink_recvmsg caps max_recvmsg_len there), so each fits a slot.
    private var buffer: [UInt8]
    private static let slotSize = 32 * 1024
    private static let slots = 8

    /// Opens a socket and resolves `family` (e.g. "IPVS").
    public init(family: String) throws(LVSError) {
        guard let sock = nl_socket_alloc() else { throw .failed("cannot allocate a netlink socket (out of memory)") }
        let rc = genl_connect(sock)
        if rc < 0 {
            nl_socket_free(sock)
            throw .failed("cannot open a generic netlink socket: \(String(cString: nl_geterror(rc)))")
        }
        let id = genl_ctrl_resolve(sock, family)
        if id < 0 {
            nl_socket_free(sock)
            if -id == NLE_OBJ_NOTFOUND {
                throw .failed("""
                    IPVS is not available in this kernel: the generic netlink family "\(family)" is missing. \
                    Load it with `modprobe ip_vs` (as root), or use a kernel built with CONFIG_IP_VS.
                    """, errno: ENOENT)
            }
            throw .failed("cannot resolve the generic netlink family \(family): \(String(cString: nl_geterror(id)))")
        }
        socket = sock
        familyID = UInt16(id)
        fd = nl_socket_get_fd(sock)
        // Errors then carry only the failed request's header, so hundreds fit in the receive buffer.
        var one: Int32 = 1
        _ = setsockopt(fd, 270 /* SOL_NETLINK */, 10 /* NETLINK_CAP_ACK */, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = nl_socket_set_buffer_size(sock, 1 << 20, 1 << 20)
        // Not zeroed: the kernel writes what is read, and a slot that no datagram reaches is never
        // touched (a first touch of a page is dear in user-mode-linux).
        buffer = [UInt8](unsafeUninitializedCapacity: Self.slots * Self.slotSize) { _, count in count = Self.slots * Self.slotSize }
    }

    deinit { nl_socket_free(socket) }

    public func send(_ bytes: [UInt8]) throws(LVSError) {
        var addr = sockaddr_nl()
        addr.nl_family = sa_family_t(AF_NETLINK)
        let n = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &addr) { ap in
                ap.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        if n < 0 {
            let e = errno
            throw .failed("netlink send failed: \(String(cString: strerror(e)))", errno: e)
        }
    }

    public func receive() throws(LVSError) -> [NetlinkMessage] {
        let n = try receiveDatagram()
        // The messages keep their bytes: copy just this datagram, so that the next receive does not
        // make Swift copy the whole buffer away from slices still alive.
        return NetlinkMessage.split(Array(buffer[0..<n])[...])
    }

    public func receive(each body: (NetlinkMessage) throws(LVSError) -> Void) throws(LVSError) {
        let lengths = try receiveDatagrams()
        // The messages are slices of the buffer; once `body` has dropped them the buffer is ours
        // alone again and the next receive writes into it without copying.
        for (slot, n) in lengths.enumerated() {
            let start = slot * Self.slotSize
            try NetlinkMessage.forEach(in: buffer[start..<(start + n)], body)
        }
    }

    /// One datagram into the first slot; returns its length.
    private func receiveDatagram() throws(LVSError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, Self.slotSize, 0) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw .failed("netlink receive failed: \(String(cString: strerror(e)))", errno: e)
            }
            return n
        }
    }

    /// One datagram, waiting for it, and those queued behind it, one per slot: their lengths.
    /// A destination dump answers in two datagrams (the destinations, then NLMSG_DONE, which the
    /// kernel queues while the first is read), so `-L --thresholds` of 10,000 services makes
    /// 10,000 system calls fewer this way; each costs ≈20 µs in user-mode-linux.
    private func receiveDatagrams() throws(LVSError) -> [Int] {
        guard let recvmmsg = Self.recvmmsg else { return [try receiveDatagram()] }
        while true {
            var headers = [MultiMessageHeader](repeating: MultiMessageHeader(), count: Self.slots)
            var vectors = [iovec](repeating: iovec(), count: Self.slots)
            let n = buffer.withUnsafeMutableBytes { raw in
                vectors.withUnsafeMutableBufferPointer { v in
                    for i in 0..<Self.slots {
                        v[i] = iovec(iov_base: raw.baseAddress! + i * Self.slotSize, iov_len: Self.slotSize)
                        headers[i].header.msg_iov = v.baseAddress! + i
                        headers[i].header.msg_iovlen = 1
                    }
                    return headers.withUnsafeMutableBytes { recvmmsg(fd, $0.baseAddress, UInt32(Self.slots), Self.waitForOne, nil) }
                }
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw .failed("netlink receive failed: \(String(cString: strerror(e)))", errno: e)
            }
            // A datagram larger than its slot would lose messages silently: refuse it instead.
            if headers[0..<Int(n)].contains(where: { $0.header.msg_flags & Int32(MSG_TRUNC) != 0 }) {
                throw .failed("netlink receive failed: a reply did not fit the receive buffer")
            }
            return headers[0..<Int(n)].map { Int($0.length) }
        }
    }

    /// struct mmsghdr.
    private struct MultiMessageHeader {
        var header = msghdr()
        var length: UInt32 = 0
    }

    /// MSG_WAITFORONE: wait for the first datagram only.
    private static let waitForOne: Int32 = 0x10000

    private typealias RecvMMsg = @convention(c) (Int32, UnsafeMutableRawPointer?, UInt32, Int32, UnsafeMutableRawPointer?) -> Int32

    /// recvmmsg(2), from the C library: Swift's Glibc module leaves it out (it is declared only
    /// under _GNU_SOURCE). nil if the library lacks it; receiving then takes a call per datagram.
    private static let recvmmsg: RecvMMsg? = {
        guard MemoryLayout<MultiMessageHeader>.stride == MemoryLayout<msghdr>.size + 8,
              let symbol = dlsym(nil, "recvmmsg") else { return nil }
        return unsafeBitCast(symbol, to: RecvMMsg.self)
    }()
}
