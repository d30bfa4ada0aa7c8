#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Command files and standard input, read whole up to a limit: a device such as /dev/zero, or a
/// runaway pipe, would otherwise be read until memory runs out.
public enum InputFile {
    /// Far above any configuration (50,000 services with their real servers are some 4 MiB).
    public static let limit = 256 << 20

    /// The text of `path` ("-" for standard input).
    public static func read(_ path: String, limit: Int = InputFile.limit) throws(LVSError) -> String {
        String(decoding: try bytes(path, limit: limit), as: UTF8.self)
    }

    /// The bytes of `path` ("-" for standard input), as they are (`lvsh import` checks them for text itself).
    public static func bytes(_ path: String, limit: Int = InputFile.limit) throws(LVSError) -> [UInt8] {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .badInput("cannot read \(Shown.word(path)): \(String(cString: strerror(errno)))") }
        defer { if fd != 0 { close(fd) } }
        var data: [UInt8] = []
        var st = stat()
        if fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size > 0, st.st_size <= limit {
            // Sized once: grown by doubling, a 10,000-service file was copied up to twice its size
            // on every reload of a daemon.
            data.reserveCapacity(Int(st.st_size))
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .badInput("cannot read \(Shown.word(path)): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            guard data.count + n <= limit else {
                throw .badInput("\(path == "-" ? "standard input" : Shown.word(path)) is larger than \(limit >> 20) MiB "
                    + "(or endless, like a device): lvsh reads command files up to that size")
            }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }
}
