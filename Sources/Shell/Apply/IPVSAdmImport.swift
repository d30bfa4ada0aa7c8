import Engine
import LVSModel

/// `lvsh import ipvsadm [FILE|-]`: the table an `ipvsadm -S` (or `-S -n`) dump describes, as lvsh
/// commands. The lines go through the same ipvsadm language and the same desired-state evaluation as
/// `ipvsadm` lines in an apply file, so a dump that imports is one that `lvsh apply` accepts.
public enum IPVSAdmImport {
    public static func configuration(_ text: String, file: String, ipvsadm: any EmbeddedLanguage) throws(LVSError) -> (text: String, warnings: [String]) {
        // One ipvsadm line per input line, numbers kept: messages name the dump's own lines.
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty || words[0].hasPrefix("#") {
                lines.append("")
            } else {
                lines.append(words.first == "ipvsadm" ? line : "ipvsadm " + line)
            }
        }
        let (state, warnings) = try DesiredState.evaluate(lines.joined(separator: "\n"), file: file, readSysctl: { _ in nil },
                                                          autoSysctl: false, ipvsadm: ipvsadm)
        var out = RunningConfig.render(table: IPVSTable(services: state.services), groups: [], timeouts: state.timeouts,
                                       daemons: state.daemons, sysctls: [])
        let header = "# lvsh running configuration\n"
        if out.hasPrefix(header) { out.removeFirst(header.count) }
        return ("# lvsh configuration made by `lvsh import ipvsadm` from \(file)\n" + out, warnings)
    }
}
