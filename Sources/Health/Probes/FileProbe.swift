import Glibc
import LVSModel
import NIOCore
import NIOPosix

/// file: the first 127 bytes of a file, read on a NIOThreadPool thread, as keepalived's
/// track_file reads them; `ProgramVerdict.file` judges the number.
enum FileProbe {
    static func run(path: String, weight: Int32, timeoutMilliseconds: UInt32, pool: NIOThreadPool,
                    on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        let read = pool.runIfActive(eventLoop: loop) { () -> ProbeVerdict in
            let verdict = ProgramVerdict.file(content: content(of: path), weight: weight)
            return ProbeVerdict(ok: verdict.ok, reason: verdict.reason, adjustment: verdict.adjustment)
        }
        // A file on a hung network mount must not hold the verdict past the timeout.
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: timeoutMilliseconds,
                                   onTimeout: .failed("\(path) not read within \(timeoutMilliseconds) ms"))
        let bound = NIOLoopBound(attempt, eventLoop: loop)
        read.whenComplete { result in
            switch result {
            case .success(let v): bound.value.finish(v)
            case .failure(let e): bound.value.finish(.failed("cannot read \(path): \(e)"))
            }
        }
        return attempt.futureResult
    }

    /// The file's first bytes, nil when it cannot be opened (keepalived reads that as 0).
    static func content(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 127)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }
}
