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
}

/// A generic-netlink socket opened and resolved with libnl-genl-3; messages then go through its descriptor
/// directly, so that one sendmsg can carry hundreds of requests.
public final class GenericNetlinkSocket: NetlinkTransport {
    public let familyID: UInt16
    private let socket: OpaquePointer
    private let fd: Int32
    private var buffer: [UInt8]

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
                    """)
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
        buffer = [UInt8](repeating: 0, count: 64 * 1024)
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
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw .failed("netlink receive failed: \(String(cString: strerror(e)))", errno: e)
            }
            // The messages keep their bytes: copy just this datagram, so that the next receive does not
            // make Swift copy the whole buffer away from slices still alive.
            return NetlinkMessage.split(Array(buffer[0..<n])[...])
        }
    }
}
