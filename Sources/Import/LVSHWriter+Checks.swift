import LVSModel

extension LVSHWriter {
    /// keepalived's default retry count of a checker kind (check_api.c, check_dns.c, check_misc.c).
    static func defaultRetry(_ kind: CheckerDef.Kind) -> UInt32 {
        switch kind {
        case .dns: 3
        case .misc: 0
        default: 1
        }
    }

    /// The names of the lvsh checks a real server's checkers become; identical probes share one name.
    mutating func checkNames(_ r: RealServerDef, _ vs: VirtualServerDef, realPort: UInt16, probePort: UInt16) throws(LVSError) -> [String] {
        var names: [String] = []
        for c in r.checkers {
            for text in try checkTexts(c, r, vs, realPort: realPort, probePort: probePort) {
                let name: String
                if let known = checkNames[text] {
                    name = known
                } else {
                    let kind = String(text.prefix { $0 != " " })
                    let n = checks.filter { $0.name.hasPrefix(kind + "-") }.count + 1
                    name = "\(kind)-\(n)"
                    checkNames[text] = name
                    checks.append((name, text))
                }
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// The options (after `check NAME`) of the lvsh checks one checker becomes: one per url of
    /// HTTP_GET/SSL_GET, one per host of SMTP_CHECK; none, with a warning, when lvsh cannot carry it.
    mutating func checkTexts(_ c: CheckerDef, _ r: RealServerDef, _ vs: VirtualServerDef,
                             realPort: UInt16, probePort: UInt16) throws(LVSError) -> [String] {
        let t = c.timing.inheriting(r.timing).inheriting(vs.timing)
        var interval = t.delayLoop ?? 60_000
        if interval > 86_400_000 || interval < 10 {
            warn(c.place, "delay_loop \(LVSHText.seconds(interval)) is outside lvsh's 0.01 to 86400 seconds; clamped")
            interval = min(max(interval, 10), 86_400_000)
        }
        var timeout = c.kind == .misc ? (c.miscTimeout ?? interval) : (t.connectTimeout ?? 5_000)
        if timeout > interval {
            if c.kind != .misc || c.miscTimeout != nil {
                warn(c.place, "\(c.kind == .misc ? "misc_timeout" : "connect_timeout") \(LVSHText.seconds(timeout)) is longer than delay_loop \(LVSHText.seconds(interval)); lvsh needs timeout ≤ interval, so the check's timeout is \(LVSHText.seconds(interval))")
            }
            timeout = interval
        }
        timeout = max(timeout, 10)
        let retry = t.retry ?? Self.defaultRetry(c.kind)
        let timing = "interval \(LVSHText.seconds(interval)) timeout \(LVSHText.seconds(timeout)) rise 1 fall \(min(retry + 1, 1000))"

        /// The connection options, or nil (warned) when the check cannot be carried.
        func connection(_ conn: Connection, usesPort: Bool) -> String? {
            var o = ""
            if let a = conn.address { o += " address \(a)" }
            if let s = conn.source {
                if let a = conn.address, a.family != s.family {
                    warn(c.place, "\(c.kind.rawValue) is not carried: connect_ip \(a) and bindto \(s) are of different families")
                    return nil
                }
                o += " source \(s)"
            }
            guard usesPort else { return o }
            if let p = conn.port, p != realPort || realPort == 0 {
                o += " port \(p)"
            } else if conn.port == nil, probePort != realPort || realPort == 0 {
                guard probePort != 0 else {
                    warn(c.place, "\(c.kind.rawValue) of real_server \(r.address) is not carried: it has no port to probe (no connect_port, and the real server's port is 0); add connect_port")
                    return nil
                }
                o += " port \(probePort)"
            }
            return o
        }

        var texts: [String] = []
        switch c.kind {
        case .tcp, .ping:
            if let conn = connection(c.connection, usesPort: c.kind == .tcp) { texts.append("\(c.kind == .tcp ? "tcp" : "ping")\(conn) \(timing)") }
        case .http, .ssl:
            guard let conn = connection(c.connection, usesPort: true) else { return [] }
            for u in c.urls {
                guard let http = httpOptions(u, c, r, vs) else { continue }
                texts.append("\(c.kind == .ssl ? "https" : "http")\(http)\(conn) \(timing)")
            }
        case .smtp:
            var helo = ""
            if let h = c.helo {
                if !h.isEmpty, h.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 33 && $0.asciiValue! < 127 }) {
                    helo = " helo \(LVSHText.word(h))"
                } else {
                    warn(c.place, "helo_name '\(Shown.word(h))' is not carried: lvsh sends one word of printable ASCII (its host name by default)")
                }
            }
            // keepalived probes the real server itself too when the checker sets any connection option
            // (connect_timeout included) or has no host block (check_smtp.c, smtp_check_end_handler).
            let base = c.connection != Connection() || c.hosts.isEmpty || c.timing.connectTimeout != nil
            for conn in (base ? [c.connection] : []) + c.hosts {
                if let o = connection(conn, usesPort: true) { texts.append("smtp\(helo)\(o) \(timing)") }
            }
        case .dns:
            let name = c.dnsName ?? "."
            guard Self.isDNSName(name) else {
                warn(c.place, "DNS_CHECK is not carried: lvsh queries names of letters, digits, '-' and '_' only, not '\(Shown.word(name))'")
                return []
            }
            if let conn = connection(c.connection, usesPort: true) {
                texts.append("dns query \(LVSHText.word(name)) type \(c.dnsType ?? "SOA")\(conn) \(timing)")
            }
        case .misc:
            guard let program = c.program.first, program.hasPrefix("/") else {
                warn(c.place, "MISC_CHECK is not carried: lvsh runs a program by its absolute path, without a shell ('\(Shown.word(c.program.first ?? ""))'); give misc_path its full path")
                return []
            }
            if !c.miscDynamic {
                warn(c.place, "MISC_CHECK without misc_dynamic: keepalived takes every exit status but 0 as down; lvsh takes 2–255 as up with weight status − 2 (misc_dynamic); make the script exit 0 or 1")
            }
            texts.append("script \(timing) \(c.program.map(LVSHText.word).joined(separator: " "))")
        case .udp:
            var o = ""
            if let p = c.payload { o += " payload \(LVSHText.hex(p))" }
            if c.requireReply {
                if let pattern = c.replyPattern {
                    let (bytes, wildcards) = try KeepalivedValues.hex([pattern][...], Statement(words: ["require_reply", pattern], place: c.place))
                    if wildcards {
                        warn(c.place, "require_reply's X wildcards are not carried: lvsh's `expect` compares whole bytes; the check passes on any answer")
                    } else if !bytes.isEmpty {
                        o += " expect \(LVSHText.hex(bytes))"
                    }
                } else {
                    warn(c.place, "require_reply without bytes is not carried: lvsh's udp check without `expect` also passes on silence")
                }
            }
            if let conn = connection(c.connection, usesPort: true) { texts.append("udp\(o)\(conn) \(timing)") }
        case .file:
            guard let name = c.trackFile, let tf = config.trackFiles[name] else {
                throw .badInput("\(c.place): FILE_CHECK: there is no track_file \(c.trackFile ?? "")")
            }
            guard let path = tf.path else { throw .badInput("\(tf.place): track_file \(name) has no `file`") }
            let weight = c.fileWeight ?? tf.weight
            guard !(c.fileReverse || tf.reverse), (0...254).contains(weight), path.hasPrefix("/") else {
                warn(c.place, "FILE_CHECK \(name) is not carried: lvsh's file check takes an absolute path and a weight from 0 to 254, not reversed")
                return []
            }
            texts.append("file path \(LVSHText.word(path)) weight \(weight) interval 1 timeout 1 rise 1 fall 1")
        case .bfd:
            return []
        }
        return texts
    }

    /// ` path P [host H] [status S] [digest D] [expect RE] [sni N]`, or nil (warned).
    mutating func httpOptions(_ u: URLDef, _ c: CheckerDef, _ r: RealServerDef, _ vs: VirtualServerDef) -> String? {
        guard let path = u.path, path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || ($0.asciiValue.map { $0 < 32 || $0 == 127 } ?? false) }) else {
            warn(u.place, "url path '\(Shown.word(u.path ?? ""))' is not carried: lvsh requests paths that start with / and hold no spaces")
            return nil
        }
        var o = " path \(LVSHText.word(path))"
        let host = u.virtualhost ?? c.virtualhost ?? r.virtualhost ?? vs.virtualhost
        if let host {
            if !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 33 && $0.asciiValue! < 127 }) {
                o += " host \(LVSHText.word(host))"
            } else {
                warn(u.place, "virtualhost '\(Shown.word(host))' is not carried: lvsh sends a host name without spaces")
            }
        }
        if let s = u.statuses {
            o += " status " + s.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
        }
        if let d = u.digest { o += " digest \(d)" }
        if let re = u.regex {
            if u.regexNoMatch {
                warn(u.place, "regex_no_match is not carried: lvsh's `expect` must match; the regex is left out")
            } else if (try? Regex(re)) == nil {
                warn(u.place, "regex '\(Shown.word(re))' is not carried: it is not a regular expression Swift reads (lvsh uses Swift's Regex, keepalived PCRE2)")
            } else {
                o += " expect \(LVSHText.word(re))"
            }
        }
        if c.kind == .ssl && c.enableSNI {
            if let host, host.allSatisfy({ $0.isASCII && !$0.isWhitespace }) { o += " sni \(LVSHText.word(host))" } else {
                warn(c.place, "enable_sni is not carried: there is no virtualhost to send as the server name")
            }
        }
        return o
    }

    /// Whether lvsh's dns check takes the name (its DNSName rule).
    static func isDNSName(_ name: String) -> Bool {
        if name == "." { return true }
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return false }
        return trimmed.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }
}
