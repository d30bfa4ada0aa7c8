import Foundation
import LVSModel
import System
import Testing
import TestSupport

/// Command files read whole: sized once from the file's length, the same bytes either way, and the
/// limit still holds for a regular file.
@Suite struct InputFileTests {
    @Test func aRegularFileIsReadWholeAndItsLimitHolds() throws {
        let dir = try TemporaryFolders.make("lvsh-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Larger than the 64 KiB the reads take at a time, and not a multiple of it.
        let text = (0..<20_000).map { "real tcp 10.0.0.1:80 10.1.\($0 / 250).\($0 % 250 + 1) nat weight 1\n" }.joined()
        let path = dir + "/big.lvsh"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try InputFile.read(path) == text)
        #expect(try InputFile.bytes(path).count == text.utf8.count)
        let empty = dir + "/empty.lvsh"
        try "".write(toFile: empty, atomically: false, encoding: .utf8)
        #expect(try InputFile.read(empty) == "")
        #expect(throws: LVSError.self) { try InputFile.bytes(path, limit: text.utf8.count - 1) }
        #expect(try InputFile.bytes(path, limit: text.utf8.count).count == text.utf8.count)
        #expect(throws: LVSError.self) { try InputFile.read(path, limit: text.utf8.count - 1) }
    }

    /// The text read straight into a string is what decoding the file's bytes gives, bad UTF-8 and
    /// NULs included (binary input must reach the parser's refusal, not a different text); a file
    /// that is not regular (a pipe, whose length is unknown) reads the same.
    @Test func textIsTheDecodedBytesWhateverTheyAre() throws {
        let dir = try TemporaryFolders.make("lvsh-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = Array("group web vip 10.0.0.1 tcp 80\n".utf8)
        bytes += [0xff, 0x61, 0xe2, 0x82, 0x00, 0x0a, 0xc3]
        let path = dir + "/binary"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let decoded = String(decoding: bytes, as: UTF8.self)
        #expect(try InputFile.read(path) == decoded)
        #expect(Array(try InputFile.read(path).utf8) == Array(decoded.utf8))
        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let written = bytes
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            _ = written.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        writer.start()
        #expect(try InputFile.read(fifo) == decoded)
    }
}
