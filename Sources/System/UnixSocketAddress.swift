#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket's address as bind, connect and sendto take it: a path, or (when `abstract` names
/// systemd's spelling) "@name" for an abstract socket.
public struct UnixSocketAddress: Sendable {
    private var address = sockaddr_un()
    private let length: socklen_t

    /// Nil when the name does not fit `sun_path` with its end.
    public init?(_ path: String, abstract: Bool = false) {
        var bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        let isAbstract = abstract && bytes.first == UInt8(ascii: "@")
        // An abstract name starts with a zero byte where systemd writes '@', and is exactly its bytes
        // long; a path ends with its zero byte.
        if isAbstract { bytes[0] = 0 }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (isAbstract ? 0 : 1))
    }

    /// Calls `body` with the address as the socket calls take it.
    public func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) rethrows -> T {
        var copy = address
        return try withUnsafePointer(to: &copy) { p in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }
}
