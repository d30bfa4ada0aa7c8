#if canImport(Glibc)
import Glibc
#endif
import System

/// A syslog socket of the test's own (what LVSH_LOG_SOCKET or ChangeLogSocket names): the lines lvsh
/// sends, one datagram each.
public final class DatagramListener {
    public let path: String
    private let fd: Int32

    /// Why the socket could not be bound.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard let address = UnixSocketAddress(path) else { throw Failure(description: "\(path) is too long for a socket") }
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard fd >= 0, bound == 0 else { throw Failure(description: "cannot bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The datagrams received since the last call.
    public func lines() -> [String] {
        var out: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
    }
}
