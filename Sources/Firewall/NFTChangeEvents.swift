#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// nftables' change notifications (the NFNLGRP_NFTABLES group) read for lvsh's table. The kernel
/// announces every object a commit changed, several to a datagram, then the commit's new generation
/// with the pid and name of the process that made it. A commit by another process that touched table
/// inet lvsh is drift: the daemon reads the kernel at once instead of at its next periodic read.
public struct NFTChangeEvents: Sendable {
    /// A commit of another process that touched lvsh's table.
    public struct Commit: Equatable, Sendable {
        /// Nil where the kernel does not say (before Linux 5.1), or the datagram could not be read.
        public var pid: UInt32?
        public var process: String?

        public init(pid: UInt32?, process: String?) {
            self.pid = pid
            self.process = process
        }

        /// "nft (pid 4242)", for the daemon's log.
        public var description: String {
            switch (process, pid) {
            case let (name?, pid?): "\(name) (pid \(pid))"
            case let (nil, pid?): "pid \(pid)"
            default: "another process"
            }
        }
    }

    private let isOwn: @Sendable (UInt32) -> Bool
    /// Whether the commit under way (its objects come before its generation) touched the table.
    private var touched = false

    /// `isOwn` says whether a pid the kernel names is this process's. The kernel names the thread
    /// that committed (its task id, not the process's), so by default: a task of /proc/self.
    public init(isOwn: @escaping @Sendable (UInt32) -> Bool = NFTChangeEvents.isThisProcess) { self.isOwn = isOwn }

    public static let isThisProcess: @Sendable (UInt32) -> Bool = { pid in
        pid == UInt32(getpid()) || access("/proc/self/task/\(pid)", F_OK) == 0
    }

    /// Reads one datagram of the group: the commit it ends, when another process made it and it
    /// touched lvsh's table. A datagram that cannot be read counts as such a commit: a read of the
    /// kernel too many costs less than drift left in place.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Commit? {
        var offset = 0
        var found: Commit?
        let header = MemoryLayout<nlmsghdr>.size, nfgen = MemoryLayout<nfgenmsg>.size
        while offset + header <= bytes.count {
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            guard length >= header, offset + length <= bytes.count else {
                touched = false
                return Commit(pid: nil, process: nil)
            }
            if type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES), length >= header + nfgen {
                let family = bytes[offset + header]
                let attributes = UnsafeRawBufferPointer(rebasing: bytes[(offset + header + nfgen)..<(offset + length)])
                if UInt32(type & 0xff) == NFT_MSG_NEWGEN.rawValue {
                    let pid = Self.attribute(Int(NFTA_GEN_PROC_PID.rawValue), in: attributes).flatMap(Self.bigEndian32)
                    if touched, !(pid.map(isOwn) ?? false) {
                        found = Commit(pid: pid, process: Self.attribute(Int(NFTA_GEN_PROC_NAME.rawValue), in: attributes).map(Self.string))
                    }
                    touched = false
                } else if family == UInt8(NFPROTO_INET),
                          // Attribute 1 names the table in every object's message (NFTA_TABLE_NAME,
                          // NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE, ...).
                          let table = Self.attribute(1, in: attributes), Self.string(table) == NFTLayout.table {
                    touched = true
                }
            }
            offset += (length + 3) & ~3
        }
        return found
    }

    private static func attribute(_ wanted: Int, in attributes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var offset = 0
        while offset + 4 <= attributes.count {
            let length = Int(attributes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = Int(attributes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)) & 0x3fff // NLA_TYPE_MASK: without the nested and byte-order flags
            guard length >= 4, offset + length <= attributes.count else { return nil }
            if type == wanted { return UnsafeRawBufferPointer(rebasing: attributes[(offset + 4)..<(offset + length)]) }
            offset += (length + 3) & ~3
        }
        return nil
    }

    private static func bigEndian32(_ value: UnsafeRawBufferPointer) -> UInt32? {
        value.count == 4 ? UInt32(bigEndian: value.loadUnaligned(as: UInt32.self)) : nil
    }

    /// A NUL-terminated string attribute.
    private static func string(_ value: UnsafeRawBufferPointer) -> String {
        String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A socket that receives the group's datagrams, for the caller to own and close; in
    /// `networkNamespace` (a path such as /run/netns/NAME) when given. Overruns are not reported
    /// (a lost notification waits for the periodic read; an error would end the listening).
    public static func openSocket(networkNamespace: String? = nil) throws(LVSError) -> Int32 {
        let socket = try NFTSocket(networkNamespace: networkNamespace)
        var group = Int32(NFNLGRP_NFTABLES.rawValue), one: Int32 = 1
        guard setsockopt(socket.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let e = errno
            throw .failed("cannot listen to nftables' change notifications: \(String(cString: strerror(e)))", errno: e)
        }
        _ = setsockopt(socket.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, socklen_t(MemoryLayout<Int32>.size))
        // The NFTSocket closes its descriptor when it goes: the caller keeps a duplicate.
        let fd = fcntl(socket.fd, F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else {
            let e = errno
            throw .failed("cannot listen to nftables' change notifications: \(String(cString: strerror(e)))", errno: e)
        }
        return fd
    }
}
