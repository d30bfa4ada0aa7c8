#if canImport(Glibc)
import Glibc
#endif
import Import
import IPVSAdm
import LVSModel
import Shell
import System

/// `lvsh import keepalived FILE [--config-id ID] [--groups]` and `lvsh import ipvsadm [FILE|-]`: an
/// lvsh configuration on standard output, what is not carried on standard error. Nothing touches the
/// kernel; exit 2 (and nothing on standard output) when the input is not what it claims to be.
enum ImportCommand {
    static let usage = """
        usage: lvsh import keepalived FILE [--config-id ID] [--groups]
               lvsh import ipvsadm [FILE|-]
          keepalived  keepalived.conf's LVS part (virtual_server, checkers, lvs_sync_daemon, lvs_timeouts) as
                      lvsh commands; a warning on standard error for each directive lvsh does not carry
                      --config-id ID  the id `@ID` lines are kept for (default: this host's name, as keepalived)
                      --groups        virtual_server_groups, and virtual servers that differ only by port,
                                      become port groups with one fwmark service
          ipvsadm     an `ipvsadm -S` or `ipvsadm -S -n` dump (standard input without FILE or with -)
        Then: lvsh apply FILE --check --diff, lvsh apply FILE, or lvsh daemon FILE (checks).
        """

    static func run(_ args: [String]) -> Int32 {
        if args.contains("--help") || args.contains("-h") || args.first == "help" {
            StandardStream.write(usage + "\n", to: 1)
            return 0
        }
        do throws(LVSError) {
            switch args.first {
            case "keepalived": return try keepalived(Array(args.dropFirst()))
            case "ipvsadm": return try ipvsadm(Array(args.dropFirst()))
            case nil: throw .badInput("import what? keepalived FILE or ipvsadm [FILE]")
            case let other?: throw .badInput("lvsh cannot import '\(Shown.word(other))': it imports keepalived and ipvsadm")
            }
        } catch {
            if error.code == .badInput && error.message.hasPrefix("usage: ") {
                StandardStream.write("lvsh import: \(error.message.dropFirst(7))\n\(usage)\n", to: 2)
            } else {
                StandardStream.write(Shown.message(error.message) + "\n", to: 2)
            }
            return error.code.rawValue
        }
    }

    static func keepalived(_ args: [String]) throws(LVSError) -> Int32 {
        var file: String?
        var options = KeepalivedImport.Options(configID: hostID())
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--groups":
                options.groups = true
            case "--config-id":
                guard i + 1 < args.count, !args[i + 1].isEmpty else { throw .badInput("usage: --config-id needs an id") }
                options.configID = args[i + 1]
                i += 1
            case let a where a.hasPrefix("--config-id="):
                options.configID = String(a.dropFirst("--config-id=".count))
            case let a where a.hasPrefix("-") && a != "-":
                throw .badInput("usage: unknown option '\(Shown.word(a))'")
            case let a:
                guard file == nil else { throw .badInput("usage: one FILE only ('\(Shown.word(a))' is a second)") }
                file = a
            }
            i += 1
        }
        guard let file else { throw .badInput("usage: import keepalived needs the FILE (keepalived.conf)") }
        let result = try KeepalivedImport.run(file, files: HostFiles(), options: options)
        for w in result.warnings { StandardStream.write(Shown.message(w) + "\n", to: 2) }
        for n in result.notes { StandardStream.write(Shown.message("note: " + n) + "\n", to: 2) }
        StandardStream.write(result.text, to: 1)
        return 0
    }

    static func ipvsadm(_ args: [String]) throws(LVSError) -> Int32 {
        guard args.count <= 1 else { throw .badInput("usage: import ipvsadm takes one FILE (or - for standard input)") }
        if let a = args.first, a.hasPrefix("-") && a != "-" { throw .badInput("usage: unknown option '\(Shown.word(a))'") }
        let path = args.first ?? "-"
        let bytes = try InputFile.bytes(path)
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
            throw .badInput("\(path == "-" ? "standard input" : Shown.word(path)): not text: not an `ipvsadm -S` dump")
        }
        let (config, warnings) = try IPVSAdmImport.configuration(text, file: path == "-" ? "<stdin>" : path, ipvsadm: IPVSAdmLanguage())
        for w in warnings { StandardStream.write(Shown.message(w) + "\n", to: 2) }
        StandardStream.write(config, to: 1)
        return 0
    }

    /// keepalived's default config id: the node name up to its first dot.
    static func hostID() -> String? {
        var name = utsname()
        guard uname(&name) == 0 else { return nil }
        let node = withUnsafeBytes(of: &name.nodename) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return node.split(separator: ".").first.map(String.init)
    }
}

/// The host's files for the importer: reads with a limit, globs with glob(3) (braces included).
struct HostFiles: ImportFiles {
    func read(_ path: String, limit: Int) throws(LVSError) -> [UInt8] {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw .badInput("\(Shown.word(path)) is a directory, not a keepalived configuration")
        }
        do {
            return try InputFile.bytes(path, limit: limit)
        } catch {
            if error.message.contains("larger than") {
                throw .badInput("\(Shown.word(path)) is larger than \(limit >> 20) MiB: not a keepalived configuration")
            }
            throw error
        }
    }

    func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, GLOB_BRACE | GLOB_TILDE, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }
}
