/// What the console keeps for its session beside the kernel: its own settings, which are not
/// lvsh.conf's (`set pager`), and the output of the line it runs, held so that it can page it.
public final class ConsoleState {
    /// Whether output taller than the terminal goes through the pager (`set pager on|off`).
    public var pager = true
    /// A command of the line said `| no-more`.
    public var pagerRefused = false
    /// What the line wrote, in order, while the console holds it: (to standard error, text).
    public private(set) var held: [(toError: Bool, text: String)]?

    public init() {}

    /// Holds what the session writes from now on (one console line).
    public func hold() {
        held = []
        pagerRefused = false
    }

    /// Ends the hold: what was written, in order.
    public func release() -> [(toError: Bool, text: String)] {
        defer { held = nil }
        return held ?? []
    }

    /// Takes a write while holding; false when not holding (the session writes it through).
    func take(_ text: String, toError: Bool) -> Bool {
        guard held != nil else { return false }
        held!.append((toError, text))
        return true
    }
}
