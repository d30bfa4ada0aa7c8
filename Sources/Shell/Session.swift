#if canImport(Glibc)
import Glibc
#endif
import IPVS
import LVSModel

/// One run of lvsh: where output goes, how the kernel is reached, and the faces that feed it commands.
public final class Session {
    public let control: any IPVSControl
    public let out: (String) -> Void
    public let err: (String) -> Void

    public init(control: any IPVSControl, out: @escaping (String) -> Void, err: @escaping (String) -> Void) {
        self.control = control
        self.out = out
        self.err = err
    }

    /// The session of the lvsh executable: the kernel's IPVS, stdout and stderr.
    public static func standard() -> Session {
        Session(control: LazyIPVSClient(), out: { StandardStream.write($0, to: 1) }, err: { StandardStream.write($0, to: 2) })
    }

    /// `lvsh ipvsadm ARG...`.
    public func runIPVSAdm(_ args: [String]) -> Int32 {
        Shell.runIPVSAdm(args, control: control, stdin: { StandardStream.readAll(0) }, out: out, err: err,
                         readConnections: { () throws(LVSError) in try ConnectionReader.read() })
    }

    /// `lvsh WORD...`: one command.
    public func runWords(_ words: [String]) -> Int32 {
        let command = CommandInput(tokens: words.enumerated().map { Token(text: $1, line: 1, column: $0 + 1) },
                                   line: 1, source: words.joined(separator: " "))
        if let problem = validate(command, file: "command line") {
            err(problem.message + "\n")
            return problem.code.rawValue
        }
        return execute(command)
    }

    /// `lvsh -f FILE` (or standard input for "-").
    public func runFile(_ path: String) -> Int32 {
        let text: String
        if path == "-" {
            text = StandardStream.readAll(0)
        } else {
            guard let t = ProcFile.read(path) else {
                err("lvsh: cannot read \(path): \(String(cString: strerror(errno)))\n")
                return LVSError.Code.badInput.rawValue
            }
            text = t
        }
        return runScript(text, name: path == "-" ? "<stdin>" : path)
    }

    /// Runs a whole script: every command is checked before the first one runs.
    public func runScript(_ text: String, name: String) -> Int32 {
        let commands: [CommandInput]
        do {
            commands = try Tokenizer.commands(in: text, file: name)
        } catch {
            err(error.message + "\n")
            return error.code.rawValue
        }
        for command in commands {
            if let problem = validate(command, file: name) {
                err(problem.message + "\n")
                return problem.code.rawValue
            }
        }
        for command in commands {
            let code = execute(command)
            if code != 0 { return code }
        }
        return 0
    }

    /// A plain line console: one command a line, `quit` or end of input to leave.
    public func runConsole() -> Int32 {
        var last: Int32 = 0
        while true {
            out("lvsh> ")
            guard let line = StandardStream.readLine(0) else {
                out("\n")
                return last
            }
            let commands: [CommandInput]
            do {
                commands = try Tokenizer.commands(in: line, file: "console")
            } catch {
                err(error.message + "\n")
                continue
            }
            for command in commands {
                if ["quit", "exit"].contains(command.words.first) { return last }
                if let problem = validate(command, file: "console") {
                    err(problem.message + "\n")
                    last = problem.code.rawValue
                    continue
                }
                last = execute(command)
            }
        }
    }

    /// Checks a command without touching the kernel.
    func validate(_ command: CommandInput, file: String) -> LVSError? {
        guard let first = command.tokens.first else { return nil }
        switch first.text {
        case "ipvsadm":
            do {
                _ = try IPVSAdmParser.parse(Array(command.words.dropFirst()))
                return nil
            } catch {
                return .badInput(located(error.message, file: file, command: command, at: first))
            }
        case "help", "quit", "exit":
            return nil
        default:
            return .badInput(located("unknown command '\(first.text)'. Commands: ipvsadm ARG... (any ipvsadm command line), help.",
                                     file: file, command: command, at: first))
        }
    }

    func execute(_ command: CommandInput) -> Int32 {
        switch command.words.first {
        case "ipvsadm": return runIPVSAdm(Array(command.words.dropFirst()))
        case "help":
            out("""
                Commands:
                  ipvsadm ARG...    any ipvsadm 1.31 command line, e.g. ipvsadm -L -n
                  help              this text
                  quit, exit        leave the console

                """)
            return 0
        default: return 0
        }
    }

    /// "FILE:LINE:COL: message", the source line, and a caret under the word.
    func located(_ message: String, file: String, command: CommandInput, at token: Token) -> String {
        let source = token.line == command.line ? command.source : ""
        var text = "\(file):\(token.line):\(token.column): \(message)"
        if !source.isEmpty {
            text += "\n  \(source)\n  \(String(repeating: " ", count: token.column - 1))^"
        }
        return text
    }
}

/// Unbuffered reads and writes on file descriptors, without Foundation.
public enum StandardStream {
    public static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    public static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// One line without its newline; nil at end of input.
    public static func readLine(_ fd: Int32) -> String? {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return data.isEmpty ? nil : String(decoding: data, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: data, as: UTF8.self) }
            data.append(byte)
        }
    }
}
