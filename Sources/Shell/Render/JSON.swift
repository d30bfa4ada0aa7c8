/// A JSON value with ordered object keys, so documented shapes print in their documented order.
/// For small documents (errors, `apply --json`, `show sysctl --json`); the big ones (`show services
/// --json`, connections) are written straight into a `TextBuffer` by ModelJSON.
public indirect enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool { a.text == b.text }
    public func hash(into h: inout Hasher) { h.combine(text) }

    /// Compact text, as machine consumers want it.
    public var text: String {
        TextBuffer.text { $0.json(self) }
    }
}

extension JSON {
    static func int<T: BinaryInteger>(_ n: T) -> JSON { .number(Int64(truncatingIfNeeded: n)) }
}
