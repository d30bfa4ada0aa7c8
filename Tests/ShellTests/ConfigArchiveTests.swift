import Foundation
import LVSModel
import Testing
@testable import System

#if canImport(Glibc)
import Glibc
#endif

/// The configuration archive on its own: numbering, how many stay, atomic 0600 files in a 0700
/// folder, what it refuses, and writers at once.
struct ConfigArchiveTests {
    /// An archive in a scratch folder (the state folder itself is created by the archive).
    static func archive(_ scratch: ScratchFolder, keep: Int = ConfigArchive.defaultKeep) -> ConfigArchive {
        ConfigArchive(base: scratch.at("state"), keep: keep)
    }

    @Test("entries count back from the newest: 0 is the last one written, 1 the one before")
    func numbering() throws {
        let scratch = try ScratchFolder()
        let archive = Self.archive(scratch)
        #expect(try archive.entries().isEmpty)
        for i in 1...3 { try archive.append("config \(i)\n") }
        #expect(try archive.text(0) == "config 3\n")
        #expect(try archive.text(1) == "config 2\n")
        #expect(try archive.text(2) == "config 1\n")
        #expect(try archive.entries().map(\.sequence) == [3, 2, 1])
        #expect(try archive.entries()[0].path == scratch.at("state/archive/0000000003.lvsh"))
        do {
            _ = try archive.text(3)
            Issue.record("entry 3 of 3 was read")
        } catch {
            #expect(error.code == .badInput && error.message.contains("holds 0 to 2"), "\(error.message)")
        }
    }

    @Test("an empty archive says so: nothing was committed")
    func empty() throws {
        let scratch = try ScratchFolder()
        do {
            _ = try Self.archive(scratch).text(0)
            Issue.record("an empty archive gave a text")
        } catch {
            #expect(error.code == .badInput && error.message.contains("is empty"), "\(error.message)")
        }
        // Reading neither creates the state folder nor the archive.
        #expect(scratch.stat("state") == nil)
    }

    @Test("the last 50 stay; the numbers go on counting")
    func keepsFifty() throws {
        let scratch = try ScratchFolder()
        let archive = Self.archive(scratch)
        for i in 1...55 { try archive.append("config \(i)\n") }
        let entries = try archive.entries()
        #expect(entries.count == 50)
        #expect(entries.first?.sequence == 55 && entries.last?.sequence == 6)
        #expect(try archive.text(49) == "config 6\n")
        #expect(scratch.stat("state/archive/0000000005.lvsh") == nil)
    }

    @Test("the folder is 0700 and each file 0600, whatever the umask; no temporary file stays")
    func modesAndAtomicity() throws {
        let scratch = try ScratchFolder()
        let archive = Self.archive(scratch)
        try archive.append("# the whole configuration\n")
        try archive.append("# the next one\n")
        let folder = try #require(scratch.stat("state/archive"))
        #expect(folder.st_mode & 0o7777 == 0o700)
        #expect(folder.st_uid == geteuid())
        for name in ["0000000001.lvsh", "0000000002.lvsh"] {
            let file = try #require(scratch.stat("state/archive/" + name))
            #expect(file.st_mode & S_IFMT == S_IFREG)
            #expect(file.st_mode & 0o7777 == 0o600, "\(name): \(String(file.st_mode & 0o7777, radix: 8))")
        }
        // Written through AtomicFile: complete files under their names, and no hidden temporary ones.
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.at("state/archive")).sorted()
        #expect(names == [".lock", "0000000001.lvsh", "0000000002.lvsh"])
        #expect(scratch.read("state/archive/0000000002.lvsh") == "# the next one\n")
    }

    @Test("a symbolic link, a file, or a folder others may read as the archive is refused with what to do")
    func refusals() throws {
        let scratch = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: scratch.at("elsewhere"), withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: scratch.at("state"), withIntermediateDirectories: false)
        let archive = Self.archive(scratch)

        #expect(symlink(scratch.at("elsewhere"), scratch.at("state/archive")) == 0)
        for reading in [false, true] {
            do {
                if reading { _ = try archive.entries() } else { try archive.append("x\n") }
                Issue.record("a symbolic link was taken for the archive (reading: \(reading))")
            } catch {
                #expect(error.message.contains("is not a folder (a symbolic link or a file)") && error.message.contains("remove it"), "\(error.message)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.at("elsewhere")).isEmpty)

        unlink(scratch.at("state/archive"))
        try scratch.put("state/archive", "a file\n")
        do {
            try archive.append("x\n")
            Issue.record("a file was taken for the archive")
        } catch {
            #expect(error.message.contains("is not a folder"), "\(error.message)")
        }

        unlink(scratch.at("state/archive"))
        #expect(mkdir(scratch.at("state/archive"), 0o755) == 0)
        #expect(chmod(scratch.at("state/archive"), 0o755) == 0)
        do {
            try archive.append("x\n")
            Issue.record("a folder others may read was taken for the archive")
        } catch {
            #expect(error.message.contains("mode 755") && error.message.contains("chmod 700"), "\(error.message)")
        }
    }

    @Test("writers at once get numbers of their own and the pruning of one never removes another's file")
    func concurrentWriters() throws {
        let scratch = try ScratchFolder()
        let archive = Self.archive(scratch, keep: 30)
        let failures = LockedList()
        DispatchQueue.concurrentPerform(iterations: 8) { writer in
            for i in 0..<10 {
                do throws(LVSError) {
                    try archive.append("writer \(writer) change \(i)\n")
                } catch {
                    failures.append(error.message)
                }
            }
        }
        #expect(failures.items.isEmpty, "\(failures.items)")
        let entries = try archive.entries()
        #expect(entries.map(\.sequence) == Array((51...80).reversed()))
        var texts: [String] = []
        for n in 0..<30 { texts.append(try archive.text(n)) }
        #expect(Set(texts).count == 30)
    }
}

/// Strings appended from several threads.
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.lock(); list.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
