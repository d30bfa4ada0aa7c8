import LVSModel

/// Where the importer reads files: the executable passes the real file system, tests a dictionary.
/// The importer itself does no I/O.
public protocol ImportFiles {
    /// The bytes of a file, at most `limit` of them (a longer file is an error).
    func read(_ path: String, limit: Int) throws(LVSError) -> [UInt8]
    /// The paths that match a glob pattern (`*`, `?`, `[...]`, `{a,b}`), sorted; empty when none does.
    func glob(_ pattern: String) -> [String]
}

/// Files held in memory, for tests: `glob` knows `*`, `?` and `{a,b}`.
public struct MemoryFiles: ImportFiles {
    public var files: [String: String]

    public init(_ files: [String: String]) { self.files = files }

    public func read(_ path: String, limit: Int) throws(LVSError) -> [UInt8] {
        guard let text = files[path] else { throw .badInput("\(path): no such file") }
        let bytes = Array(text.utf8)
        guard bytes.count <= limit else { throw .badInput("\(path): larger than \(limit) bytes") }
        return bytes
    }

    public func glob(_ pattern: String) -> [String] {
        let patterns = Glob.expandBraces(pattern)
        return files.keys.filter { path in patterns.contains { Glob.matches(Array($0.utf8), Array(path.utf8)) } }.sorted()
    }
}

/// Glob matching as glob(3) does it for one pattern against one path (`*` and `?` never match `/`).
public enum Glob {
    /// `{a,b}` alternatives expanded (nested braces too): "x{1,2}" → ["x1", "x2"].
    public static func expandBraces(_ pattern: String) -> [String] {
        let chars = Array(pattern)
        guard let open = chars.firstIndex(of: "{") else { return [pattern] }
        var depth = 0
        var close: Int?
        var commas: [Int] = []
        for i in open..<chars.count {
            if chars[i] == "{" { depth += 1 }
            if chars[i] == "}" { depth -= 1; if depth == 0 { close = i; break } }
            if chars[i] == ",", depth == 1 { commas.append(i) }
        }
        guard let close else { return [pattern] }
        let head = String(chars[..<open]), tail = String(chars[(close + 1)...])
        var bounds = [open] + commas + [close]
        var out: [String] = []
        for k in 0..<(bounds.count - 1) {
            let alternative = String(chars[(bounds[k] + 1)..<bounds[k + 1]])
            out += expandBraces(head + alternative + tail)
        }
        bounds.removeAll()
        return out
    }

    /// Whether `path` matches `pattern` (bytes), with `*`, `?` and `[...]`.
    public static func matches(_ pattern: [UInt8], _ path: [UInt8]) -> Bool {
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < path.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                starP = p
                starS = s
                p += 1
                continue
            }
            if p < pattern.count, path[s] != UInt8(ascii: "/"), let next = single(pattern, p, path[s]) {
                p = next
                s += 1
                continue
            }
            if p < pattern.count, pattern[p] == path[s], pattern[p] != UInt8(ascii: "?"), pattern[p] != UInt8(ascii: "[") {
                p += 1
                s += 1
                continue
            }
            if starP >= 0, path[starS] != UInt8(ascii: "/") {
                p = starP + 1
                starS += 1
                s = starS
                continue
            }
            return false
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// `?` or a bracket expression at `p` matching `c`: the index after it, or nil.
    private static func single(_ pattern: [UInt8], _ p: Int, _ c: UInt8) -> Int? {
        if pattern[p] == UInt8(ascii: "?") { return p + 1 }
        guard pattern[p] == UInt8(ascii: "[") else { return nil }
        var i = p + 1
        var negate = false
        if i < pattern.count, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < pattern.count, first || pattern[i] != UInt8(ascii: "]") {
            first = false
            if i + 2 < pattern.count, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                if pattern[i] <= c && c <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if pattern[i] == c { matched = true }
                i += 1
            }
        }
        guard i < pattern.count else { return nil }
        return matched != negate ? i + 1 : nil
    }
}
