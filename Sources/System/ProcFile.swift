#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads of /proc and /sys files, which report a size of 0 and must be read to the end.
public enum ProcFile {
    public static func read(_ path: String) -> String? {
        bytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Hands the file to `body` in chunks as they are read, through one reused buffer; false if the
    /// file cannot be opened or read to its end.
    public static func forEachChunk(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 * 1024) { buffer in
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                if n == 0 { return true }
                body(UnsafeBufferPointer(rebasing: buffer[0..<n]))
            }
        }
    }

    /// The file's bytes: /proc/net/ip_vs can be megabytes, and parsers of it work on bytes.
    ///
    /// The file is read into room reserved ahead (4 MiB, doubled as needed) but not zero-filled,
    /// so memory is touched only where the kernel writes: in user-mode-linux the first touch of
    /// a page costs more than reading it.
    public static func bytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var capacity = 4 << 20
        while true {
            var failed = false, atEnd = false
            let previous = data
            data = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                count = buffer.initialize(fromContentsOf: previous)
                while count < buffer.count {
                    // At most 64 KiB a read: /proc/sys handlers allocate the whole request and refuse
                    // a 4 MiB one (ENOMEM), while seq_file files return what they have either way.
                    let n = Glibc.read(fd, buffer.baseAddress! + count, min(buffer.count - count, 1 << 16))
                    if n < 0 {
                        if errno == EINTR { continue }
                        failed = true
                        return
                    }
                    if n == 0 {
                        atEnd = true
                        return
                    }
                    count += n
                }
            }
            if failed { return nil }
            if atEnd { return data }
            capacity *= 2
        }
    }
}
