import LVSModel

/// Where a line of keepalived configuration came from.
public struct SourcePlace: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public var description: String { "\(file):\(line)" }
}

/// One line of configuration after keepalived's preprocessing, with its place.
struct SourceLine: Hashable {
    var text: String
    var place: SourcePlace
}

/// Limits that keep a bad or hostile input from eating the machine.
public struct ImportLimits: Sendable {
    /// Bytes of one file.
    public var fileBytes = 16 << 20
    /// Bytes of all files together.
    public var totalBytes = 64 << 20
    /// Lines after includes and parameter expansion.
    public var lines = 2_000_000
    /// Files included within files.
    public var includeDepth = 32

    public init() {}
}

/// keepalived's reading of its files (lib/parser.c, read_line): comments, `@ID` and `@^ID` lines,
/// `$NAME=VALUE` definitions (multi-line ones too) and `$NAME` / `${NAME}` expansion, `include` with
/// globs relative to the including file. The result is the lines keepalived's keyword parser sees.
struct KeepalivedSource {
    let files: any ImportFiles
    let configID: String?
    let limits: ImportLimits
    private(set) var lines: [SourceLine] = []
    private(set) var warnings: [String] = []
    private var definitions: [String: Definition] = [:]
    private var includeStack: [String] = []
    private var totalBytes = 0

    struct Definition {
        /// One element per line; a one-line definition has one.
        var lines: [String]
        var multiline: Bool
    }

    init(files: any ImportFiles, configID: String?, limits: ImportLimits) {
        self.files = files
        self.configID = configID
        self.limits = limits
    }

    /// Reads `path` and everything it includes.
    static func read(_ path: String, files: any ImportFiles, configID: String?,
                     limits: ImportLimits = ImportLimits()) throws(LVSError) -> (lines: [SourceLine], warnings: [String]) {
        var source = KeepalivedSource(files: files, configID: configID, limits: limits)
        try source.include(normalized(path), from: nil)
        return (source.lines, source.warnings)
    }

    // MARK: files

    private mutating func include(_ path: String, from place: SourcePlace?) throws(LVSError) {
        let at = place.map { "\($0): " } ?? ""
        if includeStack.contains(path) {
            throw .badInput("\(at)include loop: \((includeStack + [path]).joined(separator: " includes "))")
        }
        guard includeStack.count < limits.includeDepth else {
            throw .badInput("\(at)includes nest deeper than \(limits.includeDepth) files; is there a loop through different names?")
        }
        let bytes = try files.read(path, limit: limits.fileBytes)
        totalBytes += bytes.count
        guard totalBytes <= limits.totalBytes else {
            throw .badInput("\(at)the configuration and its includes exceed \(limits.totalBytes >> 20) MiB: not a keepalived configuration")
        }
        let text = try Self.text(of: bytes, path: path)
        includeStack.append(path)
        defer { includeStack.removeLast() }
        var pending: [(String, Int)] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            pending.append((String(line), number))
        }
        try process(pending, file: path, depth: 0)
    }

    /// The file as text: refuses NUL bytes and invalid UTF-8 (a binary file is not a configuration).
    static func text(of bytes: [UInt8], path: String) throws(LVSError) -> String {
        if let nul = bytes.firstIndex(of: 0) {
            let line = bytes[..<nul].reduce(1) { $1 == 10 ? $0 + 1 : $0 }
            throw .badInput("\(path):\(line): a NUL byte: this is a binary file, not a keepalived configuration")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .badInput("\(path): not UTF-8 text: not a keepalived configuration")
        }
        return text
    }

    /// The directory of a path, for `${_PWD}` and relative includes.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    // MARK: lines

    /// Processes raw lines of one file (or of one multi-line definition's expansion).
    private mutating func process(_ raw: [(String, Int)], file: String, depth: Int) throws(LVSError) {
        guard depth < 16 else {
            throw .badInput("\(file):\(raw.first?.1 ?? 0): definitions expand into each other more than 16 deep")
        }
        var i = 0
        var open: (name: String, lines: [String])?
        while i < raw.count {
            let (rawText, number) = raw[i]
            i += 1
            let place = SourcePlace(file: file, line: number)
            var text = Self.decomment(rawText)
            if var def = open {
                // A multi-line definition: lines ending in `\` continue it; a blank line or one without ends it.
                if text.isEmpty {
                    definitions[def.name] = Definition(lines: def.lines, multiline: !def.lines.isEmpty)
                    open = nil
                    continue
                }
                let continues = text.hasSuffix("\\")
                if continues { text = String(text.dropLast()).trimmingBlanks() }
                if !text.isEmpty { def.lines.append(text) }
                if continues {
                    open = def
                } else {
                    definitions[def.name] = Definition(lines: def.lines, multiline: true)
                    open = nil
                }
                continue
            }
            if text.isEmpty { continue }
            var rounds = 0
            while true {
                rounds += 1
                guard rounds < 64 else { throw .badInput("\(place): parameter expansion does not end (a definition refers to itself?)") }
                if text.hasPrefix("@") {
                    guard let kept = conditional(text) else { text = ""; break }
                    text = kept
                }
                if text.hasPrefix("$"), let (name, value) = Self.definition(text) {
                    if value.hasSuffix("\\") {
                        let first = String(value.dropLast()).trimmingBlanks()
                        open = (name, first.isEmpty ? [] : [first])
                    } else {
                        definitions[name] = Definition(lines: [value], multiline: false)
                    }
                    text = ""
                    break
                }
                if text.hasPrefix("~SEQ") || text.hasPrefix("~LST") {
                    throw .badInput("\(place): \(text.prefix(4)) blocks are not supported by lvsh import; expand them first (keepalived -d dumps the expanded configuration)")
                }
                guard text.contains("$") else { break }
                let (expanded, multiline) = expand(text, place: place)
                if let multiline {
                    // A multi-line definition stands alone on its line: its lines are processed in its place.
                    try process(multiline.map { ($0, number) }, file: file, depth: depth + 1)
                    text = ""
                    break
                }
                guard expanded != text else { break }
                text = Self.decomment(expanded)
                if !text.hasPrefix("@") && !text.contains("$") { break }
            }
            if text.isEmpty { continue }
            if let (kind, pattern) = Self.includeDirective(text) {
                try includeMatches(pattern, kind: kind, from: place)
                continue
            }
            lines.append(SourceLine(text: text, place: place))
            guard lines.count <= limits.lines else {
                throw .badInput("\(place): more than \(limits.lines) lines after includes and expansion: not a keepalived configuration lvsh imports")
            }
        }
        if let def = open { definitions[def.name] = Definition(lines: def.lines, multiline: !def.lines.isEmpty) }
    }

    /// `@ID rest` / `@^ID rest`: the rest when the line applies to this config id, else nil.
    private func conditional(_ text: String) -> String? {
        var body = text.dropFirst()
        let negate = body.hasPrefix("^")
        if negate { body = body.dropFirst() }
        guard let blank = body.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let id = body[..<blank]
        let matches = configID.map { $0 == id } ?? false
        guard matches != negate else { return nil }
        return String(body[blank...]).trimmingBlanks()
    }

    /// `$NAME=VALUE` (blanks allowed before `=`): the name and the value, leading blanks removed.
    static func definition(_ text: String) -> (String, String)? {
        let chars = Array(text)
        guard chars.count > 1, chars[1].isASCII, chars[1].isLetter || chars[1] == "_" else { return nil }
        var i = 2
        while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
        let name = String(chars[1..<i])
        while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 }
        guard i < chars.count, chars[i] == "=" else { return nil }
        return (name, String(chars[(i + 1)...]).trimmingLeadingBlanks())
    }

    /// One round of `$NAME` / `${NAME}` replacement. Undefined names stay as they are. A multi-line
    /// definition replaces only a reference that is the whole line; its lines come back apart.
    private func expand(_ text: String, place: SourcePlace) -> (String, [String]?) {
        let chars = Array(text)
        var out = ""
        var i = 0
        while i < chars.count {
            guard chars[i] == "$", i + 1 < chars.count else { out.append(chars[i]); i += 1; continue }
            let braces = chars[i + 1] == "{"
            var j = i + (braces ? 2 : 1)
            let start = j
            while j < chars.count, chars[j].isASCII, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
            let name = String(chars[start..<j])
            var end = j
            if braces {
                guard j < chars.count, chars[j] == "}" else { out.append(chars[i]); i += 1; continue }
                end = j + 1
            } else if j < chars.count, !" \t,)".contains(chars[j]) {
                out.append(chars[i]); i += 1; continue
            }
            guard !name.isEmpty, let value = value(of: name) else { out.append(chars[i]); i += 1; continue }
            if value.multiline {
                if i == 0 && end == chars.count { return (text, value.lines) }
                out.append(chars[i]); i += 1; continue
            }
            out += value.lines.first ?? ""
            i = end
        }
        return (out, nil)
    }

    private func value(of name: String) -> Definition? {
        if let d = definitions[name] { return d }
        switch name {
        case "_PWD": return Definition(lines: [Self.directory(of: includeStack.last ?? ".")], multiline: false)
        case "_INSTANCE": return configID.map { Definition(lines: [$0], multiline: false) }
        case "_HASH": return Definition(lines: ["#"], multiline: false)
        case "_BANG": return Definition(lines: ["!"], multiline: false)
        default: return nil
        }
    }

    /// `include FILE` and its variants includer, includem, includew, includeb, includea.
    static func includeDirective(_ text: String) -> (String, String)? {
        for kind in ["include", "includer", "includem", "includew", "includeb", "includea"] {
            guard text.hasPrefix(kind), text.count > kind.count else { continue }
            let after = text[text.index(text.startIndex, offsetBy: kind.count)]
            guard after == " " || after == "\t" else { continue }
            var pattern = String(text.dropFirst(kind.count)).trimmingBlanks()
            if pattern.count >= 2, let q = pattern.first, q == "\"" || q == "'", pattern.last == q {
                pattern = String(pattern.dropFirst().dropLast())
            }
            return (kind, pattern)
        }
        return nil
    }

    private mutating func includeMatches(_ pattern: String, kind: String, from place: SourcePlace) throws(LVSError) {
        guard !pattern.isEmpty else { throw .badInput("\(place): \(kind) needs a file name") }
        let full = Self.normalized(pattern.hasPrefix("/") ? pattern : Self.directory(of: place.file) + "/" + pattern)
        let matches = files.glob(full)
        if matches.isEmpty {
            // Plain `include` tolerates a pattern that matches nothing, as keepalived does; the checking
            // variants make it an error there, and a warning here (nothing to import from it anyway).
            warnings.append("\(place): warning: \(kind) \(pattern) matches no file; nothing included")
            return
        }
        for path in matches { try include(Self.normalized(path), from: place) }
    }

    /// `a/./b/../c` → `a/c`, so that one file reached by two spellings is seen as one (include loops).
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// keepalived's decomment(): leading and trailing blanks removed, the line cut at a `#` or `!`
    /// outside double quotes; `\#` and `\!` outside quotes stand for the characters themselves.
    static func decomment(_ line: String) -> String {
        var out = ""
        var quote = false
        var chars = Array(line.trimmingLeadingBlanks())
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\"" { quote.toggle() }
            if c == "\\", i + 1 < chars.count, !quote, chars[i + 1] == "#" || chars[i + 1] == "!" {
                out.append(chars[i + 1])
                i += 2
                continue
            }
            if !quote, c == "#" || c == "!" { break }
            out.append(c)
            i += 1
        }
        chars.removeAll()
        return out.trimmingBlanks()
    }
}

extension String {
    func trimmingLeadingBlanks() -> String { String(drop { $0 == " " || $0 == "\t" }) }

    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
