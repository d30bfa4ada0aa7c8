#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// Why talking to nf_tables did not work: the ruleset moved under us (re-read and re-plan), or a
/// failure to report.
enum NFTError: Error {
    /// ERESTART on commit, NLM_F_DUMP_INTR in a dump, or the generation moved while reading.
    case rulesetChanged
    case failed(LVSError)
}

/// The kernel's answer to one request: 0 for an acknowledgement, else a positive errno, with the
/// extended-ack text and the offset of the attribute it blames when the kernel gave them.
struct NFTReply: Equatable, Sendable {
    var sequence: UInt32
    var errno: Int32
    var message: String?
    var attributeOffset: UInt32?
}

/// A NETLINK_NETFILTER socket (libmnl), optionally opened inside another network namespace.
final class NFTSocket {
    private let socket: OpaquePointer
    let fd: Int32
    private let portID: UInt32
    private var sequence: UInt32
    private let buffer: UnsafeMutableRawBufferPointer
    private var sendBufferSize = 0
    /// What this socket sent and received (netlink messages and bytes): tests and benchmarks compare
    /// them to show what an operation costs in round trips.
    private(set) var sentMessages = 0
    private(set) var sentBytes = 0
    private(set) var receivedBytes = 0

    /// CLONE_NEWNET, which Glibc's module does not export.
    static let newNetworkNamespace: Int32 = 0x4000_0000

    /// The nlmsg_type of an nf_tables message: the subsystem in the high byte.
    static func messageType(_ msg: nf_tables_msg_types) -> UInt16 { UInt16(NFNL_SUBSYS_NFTABLES << 8) | UInt16(msg.rawValue) }

    /// Opens a socket; with `networkNamespace` (a path such as /run/netns/NAME) the socket lives in that
    /// namespace, whichever thread later uses it. Only the calling thread switches, and only briefly.
    init(networkNamespace path: String? = nil) throws(LVSError) {
        var saved: Int32 = -1
        if let path {
            saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            let target = open(path, O_RDONLY | O_CLOEXEC)
            defer { if target >= 0 { close(target) } }
            if saved < 0 || target < 0 || lvsh_setns(target, NFTSocket.newNetworkNamespace) != 0 {
                let e = errno
                if saved >= 0 { close(saved) }
                throw .failed("cannot enter the network namespace \(path): \(String(cString: strerror(e)))", errno: e)
            }
        }
        defer {
            if saved >= 0 {
                // Going back cannot fail for a namespace this thread was in a moment ago.
                _ = lvsh_setns(saved, NFTSocket.newNetworkNamespace)
                close(saved)
            }
        }
        guard let nl = mnl_socket_open(NETLINK_NETFILTER) else {
            let e = errno
            if e == EPROTONOSUPPORT || e == EAFNOSUPPORT {
                throw .failed("nftables is not available: this kernel has no nfnetlink (CONFIG_NETFILTER_NETLINK); use --backend iptables", errno: e)
            }
            throw .failed("cannot open a netfilter netlink socket: \(String(cString: strerror(e)))", errno: e)
        }
        guard mnl_socket_bind(nl, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let e = errno
            mnl_socket_close(nl)
            throw .failed("cannot bind a netfilter netlink socket: \(String(cString: strerror(e)))", errno: e)
        }
        socket = nl
        fd = mnl_socket_get_fd(nl)
        portID = mnl_socket_get_portid(nl)
        // Errors then carry only the failed message's header (not up to 64 KB of elements), plus the
        // kernel's explanation and the offset of the element it refused.
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        var rcv: Int32 = 1 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, socklen_t(MemoryLayout<Int32>.size))
        }
        sequence = UInt32(truncatingIfNeeded: time(nil))
        // Dump replies come in datagrams of at most 32 KB; twice that leaves room.
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    }

    deinit {
        mnl_socket_close(socket)
        buffer.deallocate()
    }

    /// The sequence number the next request or batch starts with.
    var nextSequence: UInt32 { sequence &+ 1 }

    /// Marks the numbers up to `last` used (a batch numbers its own messages from `nextSequence`).
    func advance(through last: UInt32) { sequence = last }

    // MARK: requests and dumps

    /// Sends one request and calls `each` for every data message of the answer. A dump ends with
    /// NLMSG_DONE; a plain request is sent with NLM_F_ACK and ends with its acknowledgement.
    func request(_ msg: nf_tables_msg_types, family: UInt16, dump: Bool, what: String,
                 attributes: (UnsafeMutablePointer<nlmsghdr>) -> Void = { _ in },
                 each: (UnsafePointer<nlmsghdr>) throws(NFTError) -> Void) throws(NFTError) {
        let seq = nextSequence
        advance(through: seq)
        let flags = UInt16(NLM_F_REQUEST) | (dump ? UInt16(NLM_F_DUMP) : UInt16(NLM_F_ACK))
        var request = [UInt8](repeating: 0, count: 512)
        let sent = request.withUnsafeMutableBytes { raw -> Int in
            let nlh = nftnl_nlmsg_build_hdr(raw.baseAddress!.assumingMemoryBound(to: CChar.self),
                                            NFTSocket.messageType(msg), family, flags, seq)!
            attributes(nlh)
            return mnl_socket_sendto(socket, raw.baseAddress, Int(nlh.pointee.nlmsg_len))
        }
        guard sent >= 0 else { throw .failed(NFTErrors.system("send a request to nf_tables (\(what))", errno: errno)) }
        sentMessages += 1
        sentBytes += sent
        var interrupted = false
        // A dump abandoned half-way would keep the socket busy (EBUSY for the next dump): read it to
        // the end even when `each` fails, then report the failure.
        var failure: NFTError?
        while true {
            let n = try receive()
            var nlh = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: nlmsghdr.self))
            var left = Int32(n)
            while mnl_nlmsg_ok(nlh, left) {
                defer { nlh = UnsafePointer(mnl_nlmsg_next(nlh, &left)) }
                guard nlh.pointee.nlmsg_seq == seq, nlh.pointee.nlmsg_pid == portID else { continue }
                if nlh.pointee.nlmsg_flags & UInt16(NLM_F_DUMP_INTR) != 0 { interrupted = true }
                switch Int32(nlh.pointee.nlmsg_type) {
                case NLMSG_DONE:
                    if let failure { throw failure }
                    if interrupted { throw .rulesetChanged }
                    return
                case NLMSG_ERROR:
                    let reply = NFTSocket.reply(nlh)
                    if reply.errno != 0 { throw .failed(NFTErrors.request(what, reply)) }
                    if let failure { throw failure }
                    if interrupted { throw .rulesetChanged }
                    return
                default:
                    guard failure == nil else { continue }
                    do { try each(nlh) } catch { failure = error }
                }
            }
        }
    }

    /// The ruleset's generation id: every committed nf_tables transaction in the namespace moves it.
    func generation() throws(NFTError) -> UInt32 {
        var gen: UInt32?
        try request(NFT_MSG_GETGEN, family: UInt16(AF_UNSPEC), dump: false, what: "read the ruleset generation") { nlh in
            guard let g = nftnl_gen_alloc() else { return }
            defer { nftnl_gen_free(g) }
            if nftnl_gen_nlmsg_parse(nlh, g) >= 0 { gen = nftnl_gen_get_u32(g, UInt16(NFTNL_GEN_ID)) }
        }
        guard let gen else { throw .failed(.failed("nf_tables did not report its ruleset generation")) }
        return gen
    }

    // MARK: batches

    /// Sends the whole batch with ONE sendmsg (the kernel commits or aborts per datagram, so a batch
    /// cannot span two) and returns every answer to its messages. nfnetlink handles the batch inside
    /// sendmsg, so all answers are queued by the time it returns.
    func send(_ batch: NFTBatch) throws(LVSError) -> [NFTReply] {
        let size = batch.byteCount
        if size + 4096 > sendBufferSize {
            // The kernel refuses a datagram bigger than the send buffer; nft grows it the same way.
            var want = Int32(clamping: size + 4096)
            if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, socklen_t(MemoryLayout<Int32>.size))
            }
            sendBufferSize = Int(want)
        }
        let sent = batch.withIOVecs { iov -> Int in
            var address = sockaddr_nl()
            address.nl_family = sa_family_t(AF_NETLINK)
            return withUnsafeMutablePointer(to: &address) { ap in
                iov.withUnsafeBufferPointer { vp in
                    var msg = msghdr()
                    msg.msg_name = UnsafeMutableRawPointer(ap)
                    msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                    msg.msg_iov = UnsafeMutablePointer(mutating: vp.baseAddress)
                    msg.msg_iovlen = vp.count
                    return sendmsg(fd, &msg, 0)
                }
            }
        }
        guard sent == size else {
            throw NFTErrors.system("send the nf_tables transaction (\(size) bytes)", errno: sent < 0 ? errno : EMSGSIZE)
        }
        sentMessages += batch.messageCount
        sentBytes += size
        var replies: [NFTReply] = []
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if n < 0 {
                let e = errno
                if e == EAGAIN || e == EWOULDBLOCK { return replies }
                if e == EINTR { continue }
                throw NFTErrors.system("read the answer to the nf_tables transaction", errno: e)
            }
            receivedBytes += n
            var nlh = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: nlmsghdr.self))
            var left = Int32(n)
            while mnl_nlmsg_ok(nlh, left) {
                defer { nlh = UnsafePointer(mnl_nlmsg_next(nlh, &left)) }
                if Int32(nlh.pointee.nlmsg_type) == NLMSG_ERROR, batch.sequences.contains(nlh.pointee.nlmsg_seq) {
                    replies.append(NFTSocket.reply(nlh))
                }
            }
        }
    }

    private func receive() throws(NFTError) -> Int {
        while true {
            let n = mnl_socket_recvfrom(socket, buffer.baseAddress, buffer.count)
            if n >= 0 {
                receivedBytes += n
                return n
            }
            let e = errno
            if e == EINTR { continue }
            throw .failed(NFTErrors.system("read from nf_tables", errno: e))
        }
    }

    /// Decodes an NLMSG_ERROR: the errno, then (with NETLINK_EXT_ACK) the kernel's text and offset.
    static func reply(_ nlh: UnsafePointer<nlmsghdr>) -> NFTReply {
        let payload = UnsafeRawPointer(mnl_nlmsg_get_payload(nlh)!)
        let code = payload.loadUnaligned(as: Int32.self)
        var reply = NFTReply(sequence: nlh.pointee.nlmsg_seq, errno: -code)
        guard nlh.pointee.nlmsg_flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return reply }
        let original = payload.advanced(by: 4).loadUnaligned(as: nlmsghdr.self)
        // With NETLINK_CAP_ACK (NLM_F_CAPPED) only the original header is echoed.
        let echoed = nlh.pointee.nlmsg_flags & UInt16(NLM_F_CAPPED) != 0 ? 16 : Int(original.nlmsg_len)
        var offset = 4 + ((echoed + 3) & ~3)
        let end = Int(nlh.pointee.nlmsg_len) - 16
        while offset + 4 <= end {
            let len = Int(payload.advanced(by: offset).loadUnaligned(as: UInt16.self))
            let type = Int32(payload.advanced(by: offset + 2).loadUnaligned(as: UInt16.self) & 0x3fff)
            guard len >= 4, offset + len <= end else { break }
            let value = payload.advanced(by: offset + 4)
            if type == Int32(NLMSGERR_ATTR_MSG.rawValue) {
                reply.message = String(decoding: UnsafeRawBufferPointer(start: value, count: len - 4), as: UTF8.self)
                    .trimmingNULs()
            } else if type == Int32(NLMSGERR_ATTR_OFFS.rawValue), len >= 8 {
                reply.attributeOffset = value.loadUnaligned(as: UInt32.self)
            }
            offset += (len + 3) & ~3
        }
        return reply
    }
}

extension String {
    func trimmingNULs() -> String {
        var s = Substring(self)
        while s.last == "\0" { s = s.dropLast() }
        return String(s)
    }
}
