#if canImport(Glibc)
import Glibc
#endif
import IPVS
import LVSModel

/// How a front words an IPVS operation the kernel (or the candidate's model of it) refused: the
/// failure is typed (operation, errno, object); lvsh's language names its own commands, ipvsadm's
/// names its options.
public protocol RefusalWording: Sendable {
    /// The message for `failure`; `table` holds the service concerned as it was just before.
    func message(for failure: IPVSFailure, table: IPVSTable?) -> String
}

/// The wording of no language in particular: what was attempted and the system's words for the errno.
public struct PlainWording: RefusalWording {
    public init() {}

    public func message(for failure: IPVSFailure, table: IPVSTable?) -> String {
        let (op, object) = PlanDescription.op(.ipvs(failure.operation))
        return KernelWords.generic("\(op.split(separator: "-").joined(separator: " ")) \(object)", failure.errno)
    }
}

/// Words shared by every wording.
public enum KernelWords {
    /// Linux errno values the IPVS code returns.
    public enum Errno {
        public static let perm: Int32 = 1, noent: Int32 = 2, srch: Int32 = 3, nomem: Int32 = 12, acces: Int32 = 13
        public static let exist: Int32 = 17, nodev: Int32 = 19, inval: Int32 = 22, range: Int32 = 34
        public static let msgsize: Int32 = 90, noprotoopt: Int32 = 92, protonosupport: Int32 = 93
        public static let opnotsupp: Int32 = 95, afnosupport: Int32 = 97
    }

    /// The fallback: what was attempted and the system's words for the errno.
    public static func generic(_ attempt: String, _ e: Int32) -> String {
        "the kernel refused to \(attempt): \(errnoText(e))"
    }

    /// strerror, with the errno number for searching.
    public static func errnoText(_ e: Int32) -> String {
        #if canImport(Glibc)
        if let text = strerror(e) { return "\(String(cString: text)) (errno \(e))" }
        #endif
        return "errno \(e)"
    }
}

/// A command language whose lines the lvsh language takes as they are (`ipvsadm ARGS...`), provided
/// by its own module and registered by the executable: the engine turns its lines into operations.
public protocol EmbeddedLanguage: Sendable {
    /// Parses one line's arguments (bad input throws, exit 2).
    func parse(_ args: [String]) throws(LVSError) -> EmbeddedLine
    /// Runs one line to its end as the language's own tool would (listings, `-R`), exit code returned.
    func run(_ args: [String], control: any IPVSControl, stdin: () -> String, out: (String) -> Void,
             err: (String) -> Void, readConnections: () throws(LVSError) -> [Connection]) -> Int32
    /// How the language words refusals of its lines.
    var wording: any RefusalWording { get }
}

/// One parsed line of an embedded language.
public struct EmbeddedLine: Sendable {
    /// The IPVS operations the line makes; empty for a line that only reads.
    public var operations: [IPVSOperation]
    /// Whether the line changes the kernel (a line may change it with no operation of its own: `-R`).
    public var changesState: Bool
    /// Whether the line reads a whole input from standard input (`-R`): it then runs alone.
    public var readsInput: Bool
    /// Whether the line reads or changes the kernel (all but help and version).
    public var needsKernel: Bool
    public var warnings: [String]

    public init(operations: [IPVSOperation], changesState: Bool, readsInput: Bool, needsKernel: Bool, warnings: [String]) {
        self.operations = operations
        self.changesState = changesState
        self.readsInput = readsInput
        self.needsKernel = needsKernel
        self.warnings = warnings
    }
}
