import Engine
import Firewall
import LVSModel

/// Reads a configuration file as a desired state: its commands run against an empty candidate, so the
/// file alone says what should exist (`lvsh apply`).
enum DesiredState {
    /// `currentMarks`: the marks the kernel's groups have now. A group the file gives no mark keeps its
    /// mark, so that applying a file never renumbers a group (and its fwmark service) under traffic.
    static func evaluate(_ text: String, file: String, readSysctl: @escaping (String) -> String?,
                         autoSysctl: Bool, currentMarks: [String: UInt32] = [:],
                         ipvsadm: (any EmbeddedLanguage)? = nil) throws(LVSError) -> (state: ManagedState, warnings: [String]) {
        var candidate = Candidate(table: IPVSTable(), daemons: [], timeouts: Timeouts(tcp: 0, tcpFin: 0, udp: 0),
                                  groups: [], readSysctl: readSysctl)
        candidate.autoSysctl = autoSysctl
        candidate.preferredMarks = currentMarks
        candidate.recordsChanges = false
        candidate.wording = LVSHWording()
        candidate.keepsHealth = true
        candidate.reserveCapacity(services: serviceLines(in: text))
        var warnings: [String] = []
        var memo = ParseMemo()
        try Tokenizer.forEachCommand(in: text, file: file) { (input) throws(LVSError) in
            let words = input.words
            let token = input.tokens[0]
            let here = SourceLocation(file: file, line: token.line, column: token.column)
            func located(_ message: String) -> String {
                "\(here): \(message)\n  \(input.source)\n  \(String(repeating: " ", count: token.column - 1))^"
            }
            let command: Command, bindings: Bindings
            switch Catalog.table.parse(words, memo: &memo) {
            case .success(let r): (command, bindings) = r
            case .failure(let f):
                let at = f.wordIndex < input.tokens.count ? input.tokens[f.wordIndex] : input.tokens.last!
                throw .badInput("\(file):\(at.line):\(at.column): \(f.message)\n  \(input.source)\n  \(String(repeating: " ", count: at.column - 1))^")
            }
            candidate.location = here
            do throws(LVSError) {
                switch command.handler {
                case .change(let handler):
                    try handler(bindings, &candidate)
                case .ipvsadm:
                    guard let ipvsadm else { throw .badInput("ipvsadm lines need lvsh's ipvsadm front, which this program does not include") }
                    let parsed = try ipvsadm.parse(bindings.all("args"))
                    guard parsed.changesState, !parsed.readsInput else {
                        warnings.append("\(here): warning: `\(input.source)` shows something; apply ignores it")
                        return
                    }
                    candidate.wording = ipvsadm.wording
                    defer { candidate.wording = LVSHWording() }
                    for op in parsed.operations { try candidate.apply(op, "") }
                case .show, .help, .quit, .write, .include, .alone, .session:
                    warnings.append("\(here): warning: `\(input.source)` is not configuration; apply ignores it")
                }
            } catch {
                throw LVSError(error.code, located(error.message))
            }
        }
        candidate.finish()
        try candidate.finishHealth()
        var state = ManagedState()
        state.health = candidate.health
        state.groups = candidate.groups.values.sorted { $0.name < $1.name }
        state.daemons = candidate.daemons
        state.sysctls = candidate.sysctls
        // Timeouts the file does not set are left as they are (`time tcp 901` sets them as well as `timeout`).
        if candidate.timeoutsSet { state.timeouts = candidate.timeouts }
        state.services = candidate.takeTable().services
        return (state, warnings + candidate.warnings + candidate.notes)
    }

    /// Lines that start with `service `: at least as many as the services the text makes, when they
    /// are written the way running-config writes them (more where a service has several lines; room
    /// reserved and never used is not touched, so it costs no memory).
    static func serviceLines(in text: String) -> Int {
        var text = text
        // The bytes, not the UTF8View: its iterator costs as much as the rest of reading a line.
        return text.withUTF8 { bytes in
            var count = 0
            var lineStart = true, matched = 0
            let word: StaticString = "service "
            let wordBytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            for byte in bytes {
                if lineStart || matched > 0 {
                    if byte == wordBytes[matched] {
                        matched += 1
                        if matched == wordBytes.count { count += 1; matched = 0 }
                    } else {
                        matched = 0
                    }
                }
                lineStart = byte == UInt8(ascii: "\n")
            }
            return count
        }
    }
}
