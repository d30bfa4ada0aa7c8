import LVSModel

extension IPTablesBackend {
    /// A failed restore as a sentence: the input line the tool names, the tool's own words, what
    /// to do, and what became of the families already written.
    static func restoreError(_ result: ToolResult, script: IPTablesScript, tools: IPTablesTools,
                             rolledBack: [IPAddress.Family], rollbackFailure: String?) -> LVSError {
        let number = lineNumber(in: result.stderr)
        let line = number.flatMap(script.line)
        var message = "\(tools.restore) refused "
        if let number, let line { message += "line \(number) `\(line)`" } else { message += "lvsh's rules" }
        message += ": \(result.errorSentence) \(hint(for: result, line: line, tools: tools))."
        if rolledBack.isEmpty {
            message += " Nothing was changed."
        } else {
            let done = rolledBack.map { IPTablesTools(flavour: tools.flavour, family: $0).command }.joined(separator: ", ")
            if let rollbackFailure {
                message += " The \(done) rules were already written and putting them back failed too (\(rollbackFailure)): run `lvsh show groups` and fix the groups."
            } else {
                message += " The \(done) rules written before were put back, so nothing changed."
            }
        }
        return .failed(message)
    }

    /// What to do about a tool's failure, judged from its message and the line it failed on.
    static func hint(for result: ToolResult, line: String?, tools: IPTablesTools) -> String {
        let text = result.stderr
        let show = "`\(tools.save) -t mangle` shows the current rules"
        if text.contains("Failed to initialize nft") {
            return "This kernel has no nf_tables: use the legacy flavour (iptables-legacy)"
        }
        if text.contains("Permission denied") || text.contains("must be root") {
            return "Changing iptables needs root (CAP_NET_ADMIN): run lvsh as root"
        }
        if text.contains("xtables lock") {
            return "Another iptables command held the xtables lock too long; run the command again when it is done"
        }
        if let line, line.hasPrefix("-D \(IPTablesLayout.chain) ") && line.contains(IPTablesLayout.generationPrefix) {
            return "Another program changed chain \(IPTablesLayout.chain) since lvsh read it; run the command again"
        }
        if let line, line.hasPrefix("-D ") {
            return "That rule was already gone: another program changed the chain; run the command again (\(show))"
        }
        if let line, line.hasPrefix("-X ") {
            return "Another chain still jumps to \(IPTablesLayout.chain); delete that jump and run the command again (\(show))"
        }
        let modules = ["Couldn't load", "No chain/target/match", "not supported", "can't initialize", "Unknown arg", "COMMIT"]
        if modules.contains(where: { text.contains($0) || (line ?? "").hasPrefix($0) }) {
            let table = tools.family == .v4 ? "iptable_mangle" : "ip6table_mangle"
            return "The kernel refused the rules, most often for a missing module: load \(table) xt_mark xt_multiport xt_tcpudp xt_comment (and xt_sctp for sctp) with modprobe; dmesg may say more"
        }
        return show
    }

    /// The input line number in "line 5 failed", "line 6: CHAIN_DEL failed" or "Error occurred at line: 2".
    static func lineNumber(in stderr: String) -> Int? {
        let bytes = Array(stderr.utf8), word = Array("line".utf8)
        var i = 0
        while i + word.count <= bytes.count {
            if bytes[i..<(i + word.count)].elementsEqual(word) {
                var j = i + word.count
                while j < bytes.count && (bytes[j] == UInt8(ascii: ":") || bytes[j] == UInt8(ascii: " ")) { j += 1 }
                var n = 0, digits = 0
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9"), digits < 9 {
                    n = n * 10 + Int(bytes[j] - UInt8(ascii: "0"))
                    j += 1
                    digits += 1
                }
                if digits > 0 { return n }
            }
            i += 1
        }
        return nil
    }
}
