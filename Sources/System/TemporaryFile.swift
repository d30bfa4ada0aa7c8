#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// The new contents of an `AtomicFile` target while they are written: an unnamed file where the
/// file system allows, else one under a hidden name; locked with `flock` from the start, so that
/// no other save takes it for a stale one.
final class TemporaryFile {
    private let place: TargetPlace
    private let fd: Int32
    /// Its hidden name while it has one; nil before `giveHiddenName` (unnamed) and after the rename.
    private var hiddenName: String?
    /// Held while the file has a hidden name.
    private var signals: HeldSignals?

    private init(place: TargetPlace, fd: Int32, hiddenName: String?, signals: HeldSignals?) {
        self.place = place
        self.fd = fd
        self.hiddenName = hiddenName
        self.signals = signals
    }

    /// `O_TMPFILE | O_WRONLY`; Glibc hides O_TMPFILE from Swift (it needs _GNU_SOURCE).
    private static let unnamedFlags: Int32 = 0o20000000 | O_DIRECTORY | O_WRONLY | O_CLOEXEC
    /// An unnamed file is named through /proc/self/fd (linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH).
    private static let canNameUnnamed = access("/proc/self/fd", X_OK) == 0
    /// New files get rw-r--r-- (less the umask): a configuration holds no secrets, and tools read it.
    static let newMode: mode_t = 0o644

    /// A locked, empty file in the target's folder, with `newMode` (less the umask) from its creation.
    static func create(in place: TargetPlace, unnamedFirst: Bool, newMode: mode_t = newMode) throws(LVSError) -> TemporaryFile {
        if unnamedFirst && canNameUnnamed {
            let fd = openat(place.fd, ".", unnamedFlags, newMode)
            if fd >= 0 {
                _ = flock(fd, LOCK_EX)
                return TemporaryFile(place: place, fd: fd, hiddenName: nil, signals: nil)
            }
            // File systems without O_TMPFILE say so in one of these ways, by kernel version.
            guard [EOPNOTSUPP, EISDIR, EINVAL].contains(errno) else { throw place.failure("cannot create a file in \(place.folder)", errno) }
        }
        return try createNamed(in: place, newMode: newMode)
    }

    /// The way without O_TMPFILE: a new hidden name, opened `O_EXCL|O_NOFOLLOW` so that nothing
    /// already there (a link, someone else's file) is written through.
    private static func createNamed(in place: TargetPlace, newMode: mode_t) throws(LVSError) -> TemporaryFile {
        let signals = HeldSignals()
        for _ in 0..<100 {
            let name = place.newTemporaryName()
            let fd = openat(place.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, newMode)
            if fd < 0 {
                if errno == EEXIST { continue }
                let e = errno
                signals.release()
                throw place.failure("cannot create a file in \(place.folder)", e)
            }
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            // Another save may have found it unlocked before the flock and removed it as stale.
            if isNamed(fd, name, in: place) { return TemporaryFile(place: place, fd: fd, hiddenName: name, signals: signals) }
            close(fd)
        }
        signals.release()
        throw .failed("cannot write \(place.path): no free temporary name in \(place.folder) after 100 tries")
    }

    /// Whether `name` in the folder is the file open as `fd`.
    private static func isNamed(_ fd: Int32, _ name: String, in place: TargetPlace) -> Bool {
        var named = stat(), held = stat()
        return fstat(fd, &held) == 0 && fstatat(place.fd, name, &named, AT_SYMLINK_NOFOLLOW) == 0
            && named.st_dev == held.st_dev && named.st_ino == held.st_ino
    }

    /// Gives the file the existing target's owner and permission bits. Ownership first: chown
    /// clears set-user-ID and set-group-ID bits.
    func copyOwnerAndMode(of existing: stat) throws(LVSError) {
        var mine = stat()
        guard fstat(fd, &mine) == 0 else { throw place.failure("cannot look at the new file", errno) }
        if mine.st_uid != existing.st_uid || mine.st_gid != existing.st_gid {
            guard fchown(fd, existing.st_uid, existing.st_gid) == 0 else {
                throw place.failure("cannot keep its owner \(existing.st_uid):\(existing.st_gid) (nothing was changed; "
                                    + "run lvsh as root or as the file's owner)", errno)
            }
        }
        guard fchmod(fd, existing.st_mode & 0o7777) == 0 else {
            throw place.failure("cannot keep its mode \(String(existing.st_mode & 0o7777, radix: 8))", errno)
        }
    }

    /// Writes all of `text` and syncs it: the data is on disk before any name points to it.
    func write(_ text: String) throws(LVSError) {
        var text = text
        let failed: Int32? = text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failed { throw place.failure("cannot write the new contents", failed) }
        guard fsync(fd) == 0 else { throw place.failure("cannot sync the new contents", errno) }
    }

    /// Links an unnamed file to a hidden name, the only way to rename it over the target (linkat
    /// cannot replace). From here until the rename, catchable signals wait.
    func giveHiddenName() throws(LVSError) {
        guard hiddenName == nil else { return }
        signals = HeldSignals()
        for _ in 0..<100 {
            let name = place.newTemporaryName()
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", place.fd, name, AT_SYMLINK_FOLLOW) == 0 {
                hiddenName = name
                return
            }
            if errno != EEXIST { throw place.failure("cannot name the new file in \(place.folder)", errno) }
        }
        throw .failed("cannot write \(place.path): no free temporary name in \(place.folder) after 100 tries")
    }

    /// Renames the file over the target: readers see the old file or the new one, nothing between.
    func rename() throws(LVSError) {
        guard let temp = hiddenName else { return }
        guard renameat(place.fd, temp, place.fd, place.name) == 0 else {
            let e = errno
            if e == EISDIR || e == ENOTEMPTY || e == ENOTDIR {
                throw .badInput("cannot write \(place.path): it is a folder; give the path of a file")
            }
            throw place.failure("cannot rename the new file over it", e)
        }
        hiddenName = nil
    }

    /// Removes the hidden name if the rename did not happen, closes the file, and lets held signals act.
    func discard() {
        if let hiddenName { _ = unlinkat(place.fd, hiddenName, 0) }
        hiddenName = nil
        close(fd)
        signals?.release()
        signals = nil
    }
}

/// Holds back the signals that end a process on request (Ctrl-C, kill, hangup, quit) while a
/// temporary file has a name, so that such a signal ends lvsh only once the file is renamed or
/// removed. SIGKILL cannot be held back: the file it leaves is complete, its lock dies with the
/// process, and the next save of that target removes it.
struct HeldSignals {
    private var previous = sigset_t()

    init() {
        var held = sigset_t()
        sigemptyset(&held)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&held, s) }
        pthread_sigmask(SIG_BLOCK, &held, &previous)
    }

    /// Restores the signal mask; a signal that came meanwhile acts now.
    func release() {
        var previous = self.previous
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }
}
