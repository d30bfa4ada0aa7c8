#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import System

/// A front's side of the control socket: one connection per batch, blocking (a front does one thing
/// and waits for it), so that starting `lvsh -c` stays as cheap as before.
public enum ControlClient {
    /// The daemon's socket in the namespace's runtime folder.
    public static func socketPath(_ dir: RuntimeDirectory) -> String { dir.path + "/control.sock" }

    /// The forwarder for a session when this namespace has a daemon; nil when it has none.
    public static func forwarder(_ dir: RuntimeDirectory) -> ((ControlRequest) throws(LVSError) -> ControlReply)? {
        var st = stat()
        guard lstat(socketPath(dir), &st) == 0, st.st_mode & S_IFMT == S_IFSOCK, dir.runningDaemon() != nil else { return nil }
        let path = socketPath(dir)
        return { (request: ControlRequest) throws(LVSError) -> ControlReply in try send(request, to: path) }
    }

    public static func send(_ request: ControlRequest, to path: String) throws(LVSError) -> ControlReply {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("cannot make a socket for lvsh daemon: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard let address = UnixSocketAddress(path) else { throw .failed("\(path) is too long for a socket") }
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        guard connected == 0 else {
            throw .failed("lvsh daemon runs in this namespace but its control socket \(path) refused the connection (\(String(cString: strerror(errno)))); is the daemon starting or stopping?")
        }
        try write(fd, ControlWire.encode(request))
        shutdown(fd, Int32(SHUT_WR))
        let header = try read(fd, count: 4)
        let payload = try read(fd, count: try ControlWire.length(header))
        return try ControlWire.reply(payload)
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8]) throws(LVSError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .failed("lvsh daemon closed its control socket while lvsh was sending: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    private static func read(_ fd: Int32, count: Int) throws(LVSError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .failed("lvsh daemon closed its control socket before answering (see its log: journalctl -u lvsh)") }
            got += n
        }
        return out
    }
}
