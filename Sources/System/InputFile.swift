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
        let fd = try open(path)
        defer { if fd != 0 { close(fd) } }
        if let text = try regularText(fd, path: path, limit: limit) { return text }
        return String(decoding: try bytes(fd, path: path, limit: limit), as: UTF8.self)
    }

    /// The bytes of `path` ("-" for standard input), as they are (`lvsh import` checks them for text itself).
    public static func bytes(_ path: String, limit: Int = InputFile.limit) throws(LVSError) -> [UInt8] {
        let fd = try open(path)
        defer { if fd != 0 { close(fd) } }
        return try bytes(fd, path: path, limit: limit)
    }

    private static func open(_ path: String) throws(LVSError) -> Int32 {
        let fd = path == "-" ? 0 : Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .badInput("cannot read \(Shown.word(path)): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// A regular file's text read straight into the string's storage, its length known beforehand; nil
    /// for anything else, or a file whose length changed while it was read (then read as a stream from
    /// its start). A daemon reloading a 10,000-service file touched its size twice over for the bytes
    /// and then the string, and in the user-mode-linux lab each page first touched costs about 70 µs.
    private static func regularText(_ fd: Int32, path: String, limit: Int) throws(LVSError) -> String? {
        guard fd != 0, let size = regularLength(fd, limit: limit) else { return nil }
        var failure: Int32 = 0
        var whole = false
        let text = String(unsafeUninitializedCapacity: size) { buffer in
            var filled = 0
            while filled < size {
                let n = Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return 0
                }
                if n == 0 { break }
                filled += n
            }
            // One byte more would mean the file grew: it is then read again as a stream.
            var extra: UInt8 = 0
            whole = filled == size && Glibc.read(fd, &extra, 1) == 0
            return whole ? filled : 0
        }
        if failure != 0 { throw .badInput("cannot read \(Shown.word(path)): \(String(cString: strerror(failure)))") }
        guard whole else {
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw .badInput("cannot read \(Shown.word(path)): it changed while it was read") }
            return nil
        }
        return text
    }

    /// The length of a regular, non-empty file within the limit; nil for anything else (a pipe, a
    /// device, /proc's files, which say 0), whose length is only known once it is read.
    private static func regularLength(_ fd: Int32, limit: Int) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size > 0, st.st_size <= limit else { return nil }
        return Int(st.st_size)
    }

    private static func bytes(_ fd: Int32, path: String, limit: Int) throws(LVSError) -> [UInt8] {
        var data: [UInt8] = []
        // Sized once: grown by doubling, a 10,000-service file was copied up to twice its size on
        // every reload of a daemon.
        if let size = regularLength(fd, limit: limit) { data.reserveCapacity(size) }
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
