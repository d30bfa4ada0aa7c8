import LVSModel

/// A front's batch for the namespace's daemon (DESIGN.md: while a daemon runs, it is the one writer):
/// the commands as typed, the files they name as the front read them, and the front's output options.
public struct ControlRequest: Equatable, Sendable {
    /// Where the commands came from, for messages ("-c", a file name, "command line").
    public var name: String
    public var text: String
    public var files: [String: String] = [:]
    public var json = false, dryRun = false
    public var check = false, diff = false, prune = false, exitCode = false
    public var drain: Int?
    public var confirm: Int?
    /// Who sent the batch, from which terminal: the daemon records the change under their name.
    public var user = "", tty = ""

    public init(name: String, text: String, options: SessionOptions = SessionOptions()) {
        self.name = name
        self.text = text
        (user, tty) = ChangeHistory.caller()
        json = options.json
        dryRun = options.dryRun
        check = options.apply.check
        diff = options.apply.diff
        prune = options.apply.prune
        exitCode = options.apply.exitCode
        drain = options.apply.drain
        confirm = options.apply.confirm
    }

    /// The daemon's session options for this request: its own settings, the front's output options.
    public func options(over base: SessionOptions) -> SessionOptions {
        var o = base
        o.json = json
        o.dryRun = dryRun
        o.apply.check = check
        o.apply.diff = diff
        o.apply.prune = prune
        o.apply.exitCode = exitCode
        o.apply.drain = drain
        o.apply.confirm = confirm
        return o
    }
}

/// The daemon's answer: the exit code, what the front prints, and the files it writes.
public struct ControlReply: Equatable, Sendable {
    public var code: Int32
    public var out = ""
    public var err = ""
    public var writes: [FileWrite] = []

    public init(code: Int32, out: String = "", err: String = "", writes: [FileWrite] = []) {
        self.code = code
        self.out = out
        self.err = err
        self.writes = writes
    }
}

extension FileWrite: Equatable {
    public static func == (a: FileWrite, b: FileWrite) -> Bool { (a.path, a.contents, a.done) == (b.path, b.contents, b.done) }
}

/// The control socket's frames: a 4-byte big-endian length, then fields, each a 4-byte length and its
/// bytes. A version field first, so a daemon and a front of different builds refuse each other clearly.
public enum ControlWire {
    public static let version = "lvsh-control-2"
    /// Larger than any file lvsh reads (256 MiB) plus its commands.
    public static let maxFrame = 300 << 20

    public static func encode(_ r: ControlRequest) -> [UInt8] {
        var fields = [version, r.name, r.text, flags(r), r.drain.map(String.init) ?? "", r.confirm.map(String.init) ?? "", r.user, r.tty]
        for (path, text) in r.files.sorted(by: { $0.key < $1.key }) { fields += [path, text] }
        return frame(fields)
    }

    public static func encode(_ r: ControlReply) -> [UInt8] {
        var fields = [version, String(r.code), r.out, r.err]
        for w in r.writes { fields += [w.path, w.contents, w.done] }
        return frame(fields)
    }

    /// A request from a frame's payload (the bytes after its length).
    public static func request(_ payload: [UInt8]) throws(LVSError) -> ControlRequest {
        let f = try fields(payload)
        guard f.count >= 8, f.count % 2 == 0 else { throw malformed }
        var r = ControlRequest(name: f[1], text: f[2])
        let flags = Set(f[3].split(separator: ",").map(String.init))
        r.json = flags.contains("json")
        r.dryRun = flags.contains("dry-run")
        r.check = flags.contains("check")
        r.diff = flags.contains("diff")
        r.prune = flags.contains("prune")
        r.exitCode = flags.contains("exit-code")
        r.drain = Int(f[4])
        r.confirm = Int(f[5])
        r.user = f[6]
        r.tty = f[7]
        var i = 8
        while i < f.count {
            r.files[f[i]] = f[i + 1]
            i += 2
        }
        return r
    }

    /// A reply from a frame's payload (the bytes after its length).
    public static func reply(_ payload: [UInt8]) throws(LVSError) -> ControlReply {
        let f = try fields(payload)
        guard f.count >= 4, (f.count - 4) % 3 == 0, let code = Int32(f[1]) else { throw malformed }
        var r = ControlReply(code: code, out: f[2], err: f[3])
        var i = 4
        while i < f.count {
            r.writes.append(FileWrite(path: f[i], contents: f[i + 1], done: f[i + 2]))
            i += 3
        }
        return r
    }

    /// The payload's length, from a frame's first 4 bytes.
    public static func length(_ header: some Collection<UInt8>) throws(LVSError) -> Int {
        guard header.count == 4 else { throw malformed }
        let n = header.reduce(0) { $0 << 8 | Int($1) }
        guard n <= maxFrame else { throw .failed("the control socket's frame of \(n) bytes is larger than lvsh accepts") }
        return n
    }

    private static func flags(_ r: ControlRequest) -> String {
        [(r.json, "json"), (r.dryRun, "dry-run"), (r.check, "check"), (r.diff, "diff"), (r.prune, "prune"), (r.exitCode, "exit-code")]
            .filter(\.0).map(\.1).joined(separator: ",")
    }

    private static func frame(_ fields: [String]) -> [UInt8] {
        var body: [UInt8] = []
        for f in fields {
            let bytes = Array(f.utf8)
            append32(bytes.count, to: &body)
            body += bytes
        }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 4)
        append32(body.count, to: &out)
        return out + body
    }

    private static func append32(_ n: Int, to out: inout [UInt8]) {
        out += [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
    }

    private static func fields(_ payload: [UInt8]) throws(LVSError) -> [String] {
        var out: [String] = []
        var i = 0
        while i < payload.count {
            guard payload.count - i >= 4 else { throw malformed }
            let n = try length(payload[i..<i + 4])
            i += 4
            guard payload.count - i >= n else { throw malformed }
            out.append(String(decoding: payload[i..<i + n], as: UTF8.self))
            i += n
        }
        guard out.first == version else {
            throw .failed("the control socket speaks \(out.first.map { "'\(Shown.word($0))'" } ?? "nothing"), not \(version): the daemon and this lvsh are different versions; restart the daemon")
        }
        return out
    }

    private static var malformed: LVSError { .failed("a malformed message on lvsh's control socket") }
}
