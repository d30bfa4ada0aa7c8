/// A line diff for `apply --diff` and `show diff`: Myers' algorithm, printed as `-`/`+` lines with a
/// few lines of context, like `diff -u` without hunk headers.
enum LineDiff {
    enum Edit: Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    static func edits(_ a: [String], _ b: [String]) -> [Edit] {
        let n = a.count, m = b.count
        let max = n + m
        if max == 0 { return [] }
        var v = [Int](repeating: 0, count: 2 * max + 2)
        var trace: [[Int]] = []
        outer: for d in 0...max {
            trace.append(v)
            for k in stride(from: -d, through: d, by: 2) {
                var x = (k == -d || (k != d && v[max + k - 1] < v[max + k + 1])) ? v[max + k + 1] : v[max + k - 1] + 1
                var y = x - k
                while x < n && y < m && a[x] == b[y] { x += 1; y += 1 }
                v[max + k] = x
                if x >= n && y >= m { break outer }
            }
        }
        // Walk back through the saved frontiers to recover the edit script.
        var x = n, y = m
        var result: [Edit] = []
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let v = trace[d]
            let k = x - y
            let prevK = (k == -d || (k != d && v[max + k - 1] < v[max + k + 1])) ? k + 1 : k - 1
            let prevX = v[max + prevK], prevY = prevX - prevK
            while x > prevX && y > prevY { result.append(.same(a[x - 1])); x -= 1; y -= 1 }
            if d > 0 {
                if x == prevX { result.append(.added(b[y - 1])); y -= 1 } else { result.append(.removed(a[x - 1])); x -= 1 }
            }
        }
        return result.reversed()
    }

    /// The changed lines with `context` unchanged lines around each change; empty when equal.
    static func unified(before: String, after: String, context: Int = 2) -> String {
        let a = before.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = after.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let e = edits(a, b)
        guard e.contains(where: { if case .same = $0 { false } else { true } }) else { return "" }
        var keep = [Bool](repeating: false, count: e.count)
        for (i, edit) in e.enumerated() {
            if case .same = edit { continue }
            for j in Swift.max(0, i - context)...Swift.min(e.count - 1, i + context) { keep[j] = true }
        }
        var out = "--- before\n+++ after\n"
        var skipped = false
        for (i, edit) in e.enumerated() {
            guard keep[i] else { skipped = true; continue }
            if skipped { out += "@@\n"; skipped = false }
            switch edit {
            case .same(let l): out += " \(l)\n"
            case .removed(let l): out += "-\(l)\n"
            case .added(let l): out += "+\(l)\n"
            }
        }
        return out
    }
}
