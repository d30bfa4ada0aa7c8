#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Whether a path can take a file that lvsh writes (`save`, `set`): checked where the command stands in
/// a batch, so that a batch whose file cannot be written is refused before its kernel changes.
package enum FileTarget {
    package static func check(_ path: String) throws(LVSError) {
        guard !path.isEmpty else { throw .badInput("no file named") }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var st = stat()
        guard stat(folder, &st) == 0 else {
            throw .badInput("cannot write \(path): the folder \(folder) does not exist (\(String(cString: strerror(errno)))); create it first")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .badInput("cannot write \(path): \(folder) is not a folder") }
        guard stat(path, &st) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw .badInput("cannot write \(path): it is a folder; name a file")
        default: throw .badInput("cannot write \(path): it is not a regular file (a device, FIFO or socket); name a regular file")
        }
    }
}
