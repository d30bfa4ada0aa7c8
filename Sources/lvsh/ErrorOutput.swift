#if canImport(Glibc)
import Glibc
#endif
import IPVS
import LVSModel
import IPVSAdm
import Shell
import System

/// Standard error of one lvsh run. With --json it is held: a run that fails (exit 1 or 2) ends with one
/// JSON object on standard error instead, `{"error": MESSAGE, "code": N}` (plus `"warnings": [TEXT...]`
/// when something was said before the error), so that standard output carries only JSON results and a
/// caller reads one object from each. A run that succeeds writes what it held as text (warnings).
final class ErrorOutput: @unchecked Sendable {
    static let shared = ErrorOutput()

    /// Whether output is held for a JSON error (--json, and not an interactive console).
    var holds = false
    private var held: [String] = []

    /// Writes (or holds) a message; control characters are escaped whoever wrote it (Shown.message).
    func write(_ text: String) {
        let text = Shown.message(text)
        if holds { held.append(text) } else { StandardStream.write(text, to: 2) }
    }

    /// Writes what was held, as JSON when the run failed, and exits with `code`.
    func finish(_ code: Int32) -> Never {
        if holds {
            holds = false
            if let object = Self.errorObject(held, code: code) {
                StandardStream.write(object + "\n", to: 2)
            } else {
                StandardStream.write(held.joined(), to: 2)
            }
        }
        exit(code)
    }

    /// The JSON error object for what a failed run wrote to standard error: its last message is the
    /// error, earlier ones are warnings. nil when the run did not fail.
    static func errorObject(_ chunks: [String], code: Int32) -> String? {
        guard code == LVSError.Code.failed.rawValue || code == LVSError.Code.badInput.rawValue else { return nil }
        var messages = chunks.map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
        let error = messages.popLast() ?? "lvsh failed (exit \(code))"
        var fields: [(String, JSON)] = [("error", .string(error)), ("code", .number(Int64(code)))]
        if !messages.isEmpty { fields.append(("warnings", .array(messages.map(JSON.string)))) }
        return JSON.object(fields).text
    }
}

extension Session {
    /// The session of the lvsh executable: the kernel, standard output, standard error through
    /// ErrorOutput (the error output --json needs), and ipvsadm's language inside lvsh's.
    static func lvsh(_ options: SessionOptions = SessionOptions()) -> Session {
        var options = options
        options.ipvsadm = IPVSAdmLanguage()
        return Session.standard(options, err: { ErrorOutput.shared.write($0) })
    }

    /// A front's session: when `lvsh daemon` runs in this namespace, its writing batches go to it.
    static func front(_ options: SessionOptions = SessionOptions()) -> Session {
        let session = lvsh(options)
        if let dir = try? RuntimeDirectory.existing(), let forward = ControlClient.forwarder(dir) { session.forward = forward }
        return session
    }
}
