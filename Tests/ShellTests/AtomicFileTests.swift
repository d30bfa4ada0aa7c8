import Foundation
import LVSModel
import Testing
@testable import System

#if canImport(Glibc)
import Glibc
#endif

/// A folder of the test's own, removed when the test ends.
final class ScratchFolder {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "lvsh-atomic-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw LVSError.failed("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func at(_ name: String) -> String { path + "/" + name }

    func put(_ name: String, _ text: String) throws { try text.write(toFile: at(name), atomically: false, encoding: .utf8) }

    func read(_ name: String) -> String? { try? String(contentsOfFile: at(name), encoding: .utf8) }

    /// Every entry, hidden ones too, sorted.
    func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func stat(_ name: String) -> Glibc.stat? {
        var st = Glibc.stat()
        return lstat(at(name), &st) == 0 ? st : nil
    }
}

/// AtomicFile without root: what it writes, what it refuses (exit 2) and what it leaves behind.
/// Symbolic links are refused, not written through (see AtomicFile's documentation for why).
struct AtomicFileTests {
    /// Both ways of writing: an unnamed O_TMPFILE file, and a hidden name from the start.
    static let ways = [true, false]

    func write(_ text: String, _ path: String, unnamed: Bool = true) throws(LVSError) {
        try AtomicFile.write(text, to: path, unnamedFirst: unnamed)
    }

    /// The error `body` throws; fails the test if it throws none or another kind.
    func refusal(_ body: () throws(LVSError) -> Void) -> LVSError? {
        do throws(LVSError) {
            try body()
            Issue.record("expected a refusal")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ways)
    func createsThenReplacesLeavingOnlyTheFile(unnamed: Bool) throws {
        let dir = try ScratchFolder()
        try write("one\n", dir.at("site.lvsh"), unnamed: unnamed)
        #expect(dir.read("site.lvsh") == "one\n")
        try write("two\n", dir.at("site.lvsh"), unnamed: unnamed)
        #expect(dir.read("site.lvsh") == "two\n")
        #expect(dir.entries() == ["site.lvsh"])
        // New files: rw-r--r-- less the umask.
        let mask = umask(0o022); umask(mask)
        #expect(dir.stat("site.lvsh")!.st_mode & 0o7777 == 0o644 & ~mask)
    }

    @Test func splitsThePathIntoFolderAndName() throws {
        for (path, folder, name) in [("plain.lvsh", ".", "plain.lvsh"), ("/etc", "/", "etc"), ("/tmp/b.lvsh", "/tmp", "b.lvsh")] {
            let place = try TargetPlace(path)
            defer { place.close() }
            #expect(place.folder == folder && place.name == name)
        }
    }

    @Test(arguments: ways)
    func keepsModeAndOwner(unnamed: Bool) throws {
        let dir = try ScratchFolder()
        try dir.put("site.lvsh", "old\n")
        chmod(dir.at("site.lvsh"), 0o640)
        // Root can give the file to someone else; anyone else checks that its own ownership stays.
        let (uid, gid): (uid_t, gid_t) = getuid() == 0 ? (65534, 65534) : (getuid(), getgid())
        if getuid() == 0 { #expect(chown(dir.at("site.lvsh"), uid, gid) == 0) }
        try write("new\n", dir.at("site.lvsh"), unnamed: unnamed)
        let st = try #require(dir.stat("site.lvsh"))
        #expect(st.st_mode & 0o7777 == 0o640)
        #expect(st.st_uid == uid && st.st_gid == gid)
        #expect(dir.read("site.lvsh") == "new\n")
    }

    @Test func refusesASymbolicLinkAndLeavesBothAlone() throws {
        let dir = try ScratchFolder()
        try dir.put("real.lvsh", "real\n")
        symlink("real.lvsh", dir.at("link.lvsh"))
        let error = refusal { () throws(LVSError) in try write("new\n", dir.at("link.lvsh")) }
        #expect(error?.code == .badInput)
        #expect(error?.message.contains("is a symbolic link (to real.lvsh)") == true, "\(error?.message ?? "")")
        #expect(dir.stat("link.lvsh")!.st_mode & S_IFMT == S_IFLNK)
        #expect(dir.read("real.lvsh") == "real\n")
        #expect(dir.entries() == ["link.lvsh", "real.lvsh"])
    }

    @Test func refusesADanglingLinkWithoutCreatingItsTarget() throws {
        let dir = try ScratchFolder()
        symlink(dir.at("nowhere.lvsh"), dir.at("link.lvsh"))
        let error = refusal { () throws(LVSError) in try write("new\n", dir.at("link.lvsh")) }
        #expect(error?.code == .badInput)
        #expect(dir.entries() == ["link.lvsh"])
    }

    @Test func refusesAFIFO() throws {
        let dir = try ScratchFolder()
        #expect(mkfifo(dir.at("pipe"), 0o600) == 0)
        let error = refusal { () throws(LVSError) in try write("x\n", dir.at("pipe")) }
        #expect(error?.code == .badInput)
        #expect(error?.message == "cannot write \(dir.at("pipe")): it is a FIFO (named pipe); save writes regular files only: give the path of a file (it may not exist yet)")
        #expect(dir.stat("pipe")!.st_mode & S_IFMT == S_IFIFO)
        #expect(dir.entries() == ["pipe"])
    }

    @Test func refusesAFolder() throws {
        let dir = try ScratchFolder()
        mkdir(dir.at("sub"), 0o755)
        for path in [dir.at("sub"), dir.at("sub/"), dir.at("sub/..")] {
            let error = refusal { () throws(LVSError) in try write("x\n", path) }
            #expect(error?.code == .badInput)
            #expect(error?.message.contains("folder") == true, "\(error?.message ?? "")")
        }
        #expect(dir.entries() == ["sub"])
    }

    @Test func refusesADevice() throws {
        let dir = try ScratchFolder()
        // Root makes a device of its own (/dev/null's numbers); others try /dev/null, which they could not replace anyway.
        let path = getuid() == 0 ? dir.at("null") : "/dev/null"
        if getuid() == 0 { #expect(mknod(path, S_IFCHR | 0o666, dev_t(0x103) /* makedev(1, 3), a macro Swift cannot import */) == 0) }
        let error = refusal { () throws(LVSError) in try write("x\n", path) }
        #expect(error?.code == .badInput)
        #expect(error?.message.contains("it is a device") == true, "\(error?.message ?? "")")
        var st = Glibc.stat()
        #expect(lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)
    }

    @Test func refusesASocket() throws {
        let dir = try ScratchFolder()
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let path = dir.at("sock")
        let address = try #require(UnixSocketAddress(path))
        try #require(address.withSockaddr { bind(fd, $0, $1) } == 0)
        let error = refusal { () throws(LVSError) in try write("x\n", path) }
        #expect(error?.code == .badInput)
        #expect(error?.message.contains("it is a socket") == true)
    }

    @Test func refusesAMissingFolderWithoutCreatingIt() throws {
        let dir = try ScratchFolder()
        let error = refusal { () throws(LVSError) in try write("x\n", dir.at("missing/deeper/site.lvsh")) }
        #expect(error?.code == .badInput)
        #expect(error?.message == "cannot write \(dir.at("missing/deeper/site.lvsh")): the folder \(dir.at("missing/deeper")) does not exist; create it first (lvsh never creates folders)")
        #expect(dir.entries() == [])
    }

    @Test func refusesAFileOnTheWay() throws {
        let dir = try ScratchFolder()
        try dir.put("file", "x\n")
        let error = refusal { () throws(LVSError) in try write("x\n", dir.at("file/site.lvsh")) }
        #expect(error?.code == .badInput)
        #expect(error?.message.contains("is not a folder") == true)
    }

    @Test(arguments: ways)
    func removesStaleTemporariesOfItsTargetOnly(unnamed: Bool) throws {
        let dir = try ScratchFolder()
        try dir.put(".site.lvsh.lvsh-tmp-00000000000000aa", "left by a killed save\n")
        try dir.put(".site.lvsh.lvsh-tmp-00000000000000bb", "a live save's\n")
        try dir.put(".other.lvsh.lvsh-tmp-00000000000000cc", "another target's\n")
        try dir.put(".site.lvsh.keep", "not a temporary file\n")
        // A writer alive: holds its temporary file's lock.
        let live = open(dir.at(".site.lvsh.lvsh-tmp-00000000000000bb"), O_RDONLY)
        defer { close(live) }
        #expect(flock(live, LOCK_EX) == 0)
        try write("new\n", dir.at("site.lvsh"), unnamed: unnamed)
        #expect(dir.entries() == [".other.lvsh.lvsh-tmp-00000000000000cc", ".site.lvsh.keep",
                                  ".site.lvsh.lvsh-tmp-00000000000000bb", "site.lvsh"])
    }
}

/// /run/lvsh and its per-namespace folders: root's, not links, 0700 or 0755 — else refused.
@Suite(.enabled(if: getuid() == 0, "the folders must be root's: needs root"))
struct RuntimeDirectoryTests {
    @Test func createsRootsFoldersWithExactModes() throws {
        let dir = try ScratchFolder()
        let base = dir.at("run")
        let runtime = try RuntimeDirectory.current(base: base)
        #expect(dir.stat("run")!.st_mode & 0o7777 == 0o755)
        var st = Glibc.stat()
        #expect(lstat(runtime.path, &st) == 0 && st.st_mode & 0o7777 == 0o700 && st.st_uid == 0)
        // Again: the folders are there and fine.
        #expect(try RuntimeDirectory.current(base: base).path == runtime.path)
    }

    func refusal(_ base: String) -> LVSError? {
        do throws(LVSError) {
            _ = try RuntimeDirectory.current(base: base)
            return nil
        } catch {
            return error
        }
    }

    @Test func refusesAWritableBase() throws {
        let dir = try ScratchFolder()
        mkdir(dir.at("run"), 0o755)
        chmod(dir.at("run"), 0o777)
        let error = refusal(dir.at("run"))
        #expect(error?.message.contains("with mode 777") == true, "\(String(describing: error))")
        #expect(dir.entries() == ["run"])
    }

    @Test func refusesALinkAsBase() throws {
        let dir = try ScratchFolder()
        mkdir(dir.at("elsewhere"), 0o755)
        symlink(dir.at("elsewhere"), dir.at("run"))
        let error = refusal(dir.at("run"))
        #expect(error?.message.contains("is not a folder (a symbolic link or a file)") == true, "\(String(describing: error))")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.at("elsewhere"))) == [])
    }

    @Test func refusesANamespaceFolderOfSomeoneElse() throws {
        let dir = try ScratchFolder()
        let good = try RuntimeDirectory.current(base: dir.at("run"))
        chown(good.path, 65534, 65534)
        let error = refusal(dir.at("run"))
        #expect(error?.message.contains("belongs to uid 65534") == true, "\(String(describing: error))")
    }

    @Test func refusesALinkAsNamespaceFolder() throws {
        let dir = try ScratchFolder()
        let good = try RuntimeDirectory.current(base: dir.at("run"))
        rmdir(good.path)
        mkdir(dir.at("elsewhere"), 0o700)
        symlink(dir.at("elsewhere"), good.path)
        let error = refusal(dir.at("run"))
        #expect(error?.message.contains("is not a folder") == true, "\(String(describing: error))")
    }
}
