import Import
import LVSModel
import Testing

/// keepalived's reading of its files: comments, quotes, braces, includes, definitions, conditionals,
/// and the errors (exit 2, keepalived's file:line) for input that is not keepalived configuration.
struct KeepalivedParserTests {
    static let simple = vs("    real_server 192.168.1.1 80 {\n        weight 2\n    }")

    @Test("comments start with # or ! anywhere outside double quotes")
    func comments() throws {
        let (r, _) = try imported("! a comment\n# another\n" + vs("    real_server 192.168.1.1 80 { ! here\n        weight 3 # three\n    }"))
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 nat weight 3"))
    }

    @Test("quoted words keep their blanks; a { on the next line opens the block; one-line blocks")
    func quotesAndBraces() throws {
        let conf = """
            virtual_server 10.0.0.1 80
            {
                protocol TCP
                real_server 192.168.1.1 80 { weight 2 }
                real_server 192.168.1.2 80 {
                    MISC_CHECK { misc_path "/usr/bin/check 'a b' c" }
                }
            }
            """
        let (r, _) = try imported(conf)
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 nat weight 2"))
        #expect(r.text.contains("script interval 60 timeout 60 rise 1 fall 1 /usr/bin/check 'a b' c"), "\(r.text)")
    }

    @Test("unbalanced braces are errors with keepalived's file and line", arguments: [
        ("virtual_server 10.0.0.1 80 {\n  protocol TCP\n", "keepalived.conf:1: the block of `virtual_server` is never closed"),
        ("virtual_server 10.0.0.1 80 {\n}\n}\n", "keepalived.conf:3: `}` closes no block"),
        ("{\n}\n", "keepalived.conf:1: `{` without a keyword"),
    ])
    func unbalanced(_ conf: String, _ expected: String) {
        let message = failure(conf)
        #expect(message?.contains(expected) == true, "\(message ?? "imported")")
    }

    @Test("include follows globs relative to the including file, in sorted order")
    func include() throws {
        let files = [
            "/etc/keepalived/conf.d/b.conf": vs("    real_server 192.168.1.2 80 { weight 1 }", head: "10.0.0.2 80"),
            "/etc/keepalived/conf.d/a.conf": vs("    real_server 192.168.1.1 80 { weight 1 }"),
            "/etc/keepalived/conf.d/skip.txt": "garbage {",
        ]
        let (r, state) = try imported("include conf.d/*.conf\n", files: files)
        #expect(state.services.count == 2)
        let a = r.text.range(of: "10.0.0.1:80")!, b = r.text.range(of: "10.0.0.2:80")!
        #expect(a.lowerBound < b.lowerBound)
        #expect(r.text.contains("conf.d/a.conf:1"), "comments name the file and line of each virtual_server")
    }

    @Test("an include that matches nothing is a warning, as for keepalived")
    func includeNothing() throws {
        let (r, _) = try imported("include /nowhere/*.conf\n" + Self.simple)
        #expect(r.warnings.contains { $0.contains("include /nowhere/*.conf matches no file") })
    }

    @Test("include loops are refused, naming the chain")
    func includeLoop() {
        let message = failure("include other.conf\n", files: ["/etc/keepalived/other.conf": "include keepalived.conf\n"])
        #expect(message?.contains("include loop: /etc/keepalived/keepalived.conf includes /etc/keepalived/other.conf includes /etc/keepalived/keepalived.conf") == true,
                "\(message ?? "imported")")
    }

    @Test("a loop through another spelling of the same file is found too")
    func includeLoopSpelled() {
        let message = failure("include ./sub/../keepalived.conf\n")
        #expect(message?.contains("include loop: /etc/keepalived/keepalived.conf includes /etc/keepalived/keepalived.conf") == true, "\(message ?? "imported")")
    }

    @Test("binary input is refused")
    func binary() {
        let message = failure("virtual_server 10.0.0.1 80 {\n\u{0}\u{1}\u{2}")
        #expect(message?.contains("keepalived.conf:2: a NUL byte: this is a binary file") == true, "\(message ?? "imported")")
    }

    @Test("huge input is refused before it is parsed")
    func huge() {
        var options = KeepalivedImport.Options()
        options.limits.lines = 100
        let conf = String(repeating: "router_id x\n", count: 200)
        #expect(throws: LVSError.self) {
            try KeepalivedImport.run(mainPath, files: MemoryFiles([mainPath: conf]), options: options)
        }
        options.limits.fileBytes = 1000
        do {
            _ = try KeepalivedImport.run(mainPath, files: MemoryFiles([mainPath: conf + String(repeating: "#", count: 2000)]), options: options)
            Issue.record("a file over the limit imported")
        } catch {
            #expect(error.message.contains("larger than"))
        }
    }

    @Test("$NAME=VALUE definitions, $NAME and ${NAME} expansion, recursive at use")
    func definitions() throws {
        let conf = """
            $BASE=10.0.${SUB}
            $SUB=0
            $PORT=80
            virtual_server ${BASE}.1 $PORT {
                protocol TCP
                real_server 192.168.1.1 $PORT { weight 1 }
            }
            """
        let (r, _) = try imported(conf)
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 nat weight 1"), "\(r.text)")
    }

    @Test("multi-line definitions expand in place, their lines processed like the file's")
    func multilineDefinition() throws {
        let conf = """
            $RS= \\
            real_server 192.168.1.${N} 80 { \\
                weight ${N} \\
            }
            virtual_server 10.0.0.1 80 {
                protocol TCP
                $N=1
                $RS
                $N=2
                $RS
            }
            """
        let (r, _) = try imported(conf)
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 nat weight 1"), "\(r.text)")
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.2:80 nat weight 2"), "\(r.text)")
    }

    @Test("a definition that refers to itself is an error, not a hang")
    func selfReference() {
        let message = failure("$A=x $A\nrouter_id $A\n")
        #expect(message?.contains("does not end") == true, "\(message ?? "imported")")
    }

    @Test("@ID lines count for that config id only, @^ID lines for every other", arguments: [
        ("lb1", ["192.168.1.1", "192.168.1.3"]),
        ("lb2", ["192.168.1.2"]),
    ])
    func conditional(_ id: String, _ expected: [String]) throws {
        let conf = vs("""
                @lb1 real_server 192.168.1.1 80 { weight 1 }
                @lb2 real_server 192.168.1.2 80 { weight 1 }
                @^lb2 real_server 192.168.1.3 80 { weight 1 }
            """)
        let (_, state) = try imported(conf, id: id)
        #expect(state.services[0].realServers.map(\.server.address.description) == expected)
    }

    @Test("unknown keywords inside an LVS block are errors with their place", arguments: [
        (vs("    bogus 1"), "keepalived.conf:5: `bogus 1`: not a virtual_server keyword"),
        (vs("    real_server 192.168.1.1 80 {\n        wieght 1\n    }"), "keepalived.conf:6: `wieght 1`: not a real_server keyword"),
        (vs("    real_server 192.168.1.1 80 {\n        TCP_CHECK {\n            helo_name x\n        }\n    }"), "keepalived.conf:7: `helo_name x`: not a TCP_CHECK keyword"),
        (vs("    real_server 192.168.1.1 80 {\n        HTTP_GET {\n            url { pth / }\n        }\n    }"), "keepalived.conf:7: `pth /`: not a url keyword"),
    ])
    func unknownKeyword(_ conf: String, _ expected: String) {
        let message = failure(conf)
        #expect(message?.contains(expected) == true, "\(message ?? "imported")")
    }

    @Test("bad values are errors with their place", arguments: [
        (vs("    real_server 192.168.1.1 80 {\n        weight heavy\n    }"), "keepalived.conf:6: `weight heavy`: 'heavy' is not a weight"),
        (vs("    lvs_sched fastest"), "keepalived.conf:5: `lvs_sched fastest`: 'fastest' is not a scheduler"),
        (vs("    delay_loop soon"), "is not a time in seconds"),
        ("virtual_server 10.0.0.300 80 {\n}\n", "keepalived.conf:1: `virtual_server 10.0.0.300 80`: '10.0.0.300' is not an IP address"),
        (vs("    lvs_method TUN type gue"), "gue tunnels need a port"),
        (vs("    protocol ICMP"), "'ICMP' is not TCP, UDP or SCTP"),
        ("virtual_server group nothere {\n  protocol TCP\n}\n", "there is no virtual_server_group nothere"),
    ])
    func badValues(_ conf: String, _ expected: String) {
        let message = failure(conf)
        #expect(message?.contains(expected) == true, "\(message ?? "imported")")
    }

    @Test("~SEQ and ~LST are refused with what to do")
    func sequences() {
        #expect(failure("~SEQ(N, 1, 3) router_id x${N}\n")?.contains("not supported by lvsh import") == true)
    }

    @Test("predefined ${_INSTANCE} and ${_PWD}")
    func predefined() throws {
        let conf = vs("    real_server 192.168.1.1 80 {\n        MISC_CHECK { misc_path \"${_PWD}/check ${_INSTANCE}\" }\n    }")
        let (r, _) = try imported(conf)
        #expect(r.text.contains("/etc/keepalived/check lb1"), "\(r.text)")
    }
}
