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
    }
}
