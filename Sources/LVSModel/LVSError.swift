/// An error a user can act on: what went wrong, where, and what to do about it.
public struct LVSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which exit code the error leads to.
    public enum Code: Int32, Hashable, Sendable {
        /// The kernel or the system refused or failed (exit 1).
        case failed = 1
        /// The input was wrong; nothing was applied (exit 2).
        case badInput = 2
    }

    public var code: Code
    public var message: String
    /// The errno the kernel answered with, when there was one.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public static func badInput(_ message: String) -> LVSError { LVSError(.badInput, message) }
    public static func failed(_ message: String, errno: Int32? = nil) -> LVSError { LVSError(.failed, message, errno: errno) }

    public var description: String { message }
}
