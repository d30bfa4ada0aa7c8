import LVSModel

/// The entry point of the `ipvsadm` libFuzzer harness in tools/fuzz and of the test that replays its
/// corpus: takes any bytes, returns for every input, and traps only where two readings disagree.
public enum IPVSAdmFuzzEntry {
    /// `ipvsadm`: with a NUL byte, the bytes are one ipvsadm command line's arguments separated by NULs
    /// (as argv: words may be empty or hold blanks); else each line is a command line split on blanks
    /// as `ipvsadm -R` splits it, parsed alone and then all together as `-R` input, checked against an
    /// empty table. Also: `-R`'s fast ASCII word splitting must agree with its reference.
    public static func ipvsadm(_ bytes: UnsafeRawBufferPointer) {
        if bytes.contains(0) {
            let args = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            parseAlone(args)
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        CNumberParsing.withBytes(text) { b in
            var fast: [String] = []
            IPVSAdmRestore.forEachLine(b) { _, range in
                let line = IPVSAdmRestore.substring(text, range)
                let reference = IPVSAdmRestore.words(of: line)
                if IPVSAdmRestore.asciiWords(UnsafeBufferPointer(rebasing: b[range]), into: &fast), fast != reference {
                    fatalError("-R's ASCII words \(fast) differ from its reference words \(reference)")
                }
                if !reference.isEmpty { parseAlone(reference) }
                return true
            }
        }
        do {
            let input = try IPVSAdmRestore.parse(text)
            for i in input.operations.indices { _ = input.lineText(input.line(ofOperation: i)) }
            try IPVSAdmRestore.check(input, table: IPVSTable(), daemons: [], timeouts: Timeouts(tcp: 900, tcpFin: 120, udp: 300))
        } catch {
            _ = error.message
        }
    }

    private static func parseAlone(_ args: [String]) {
        do {
            let command = try IPVSAdmParser.parse(args)
            _ = command.operations
            _ = command.warnings
        } catch {
            _ = error.message
        }
    }
}
