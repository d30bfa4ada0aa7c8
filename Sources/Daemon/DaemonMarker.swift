#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import System

/// /run/lvsh/net-INODE/daemon.pid: which process is this namespace's daemon. The writer lock decides;
/// the file names the holder for messages ("lvsh daemon (pid N) already runs").
enum DaemonMarker {
    static func write(in dir: RuntimeDirectory) throws(LVSError) {
        try AtomicFile.write("\(getpid())\n", to: dir.daemonPath)
    }
}
