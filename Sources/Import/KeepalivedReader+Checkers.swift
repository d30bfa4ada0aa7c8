import LVSModel

extension KeepalivedReader {
    /// Keywords every connecting checker takes (check_api.c), MISC_CHECK only the timing ones.
    static let connectionKeywords: Set<String> = ["connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "connect_timeout", "fwmark"]
    static let timingKeywords: Set<String> = ["retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures"]

    /// Each kind's own keywords, besides the common ones.
    static func ownKeywords(_ kind: CheckerDef.Kind) -> Set<String> {
        switch kind {
        case .tcp, .ping: []
        case .http, .ssl: ["nb_get_retry", "virtualhost", "http_protocol", "enable_sni", "fast_recovery", "url"]
        case .smtp: ["helo_name", "host"]
        case .dns: ["type", "name"]
        case .misc: ["misc_path", "misc_timeout", "misc_dynamic", "user"]
        case .udp: ["payload", "require_reply", "min_reply_length", "max_reply_length"]
        case .file: ["track_file", "weight"]
        case .bfd: ["name", "alpha"]
        }
    }

    /// A checker block; nil for BFD_CHECK (warned).
    mutating func checker(_ s: Statement, _ kind: CheckerDef.Kind) throws(LVSError) -> CheckerDef? {
        var c = CheckerDef(kind: kind, place: s.place)
        let body = try block(s)
        if kind == .bfd {
            warn(s, "lvsh has no BFD; use a tcp or ping check for this real server")
            return nil
        }
        var allowed = Self.ownKeywords(kind)
        if kind != .file { allowed.formUnion(Self.timingKeywords) }
        if kind != .file && kind != .misc { allowed.formUnion(Self.connectionKeywords) }
        for e in body {
            guard allowed.contains(e.keyword) else {
                throw V.fail(e, "not a \(kind.rawValue) keyword (keepalived 2.2 does not know it there)")
            }
            if e.keyword != "url" && e.keyword != "host" { try noBlock(e) }
            switch e.keyword {
            case "connect_ip", "connect_port", "bindto", "connect_timeout": try connection(e, &c.connection, &c.timing)
            case "bind_port", "bind_if": warn(e, "lvsh binds probes to an address only (`source`)")
            case "fwmark": warn(e, "lvsh does not mark its probes")
            case "log_all_failures": warn(e, "lvsh counts every failure in lvsh_check_failures_total")
            case "retry", "nb_get_retry", "delay_before_retry", "warmup", "delay_loop", "alpha": try timing(e, &c.timing)
            case "virtualhost": c.virtualhost = try V.argument(e, 1, "a host name")
            case "http_protocol": warn(e, "lvsh's http checks speak HTTP/1.1 with Connection: close")
            case "enable_sni": c.enableSNI = true
            case "fast_recovery": warn(e, "lvsh probes every URL each interval already")
            case "url": c.urls.append(try url(e))
            case "helo_name": c.helo = try V.argument(e, 1, "a name")
            case "host":
                var conn = Connection()
                var own = CheckTiming()
                for h in try block(e) {
                    switch h.keyword {
                    case "connect_ip", "connect_port", "bindto": try connection(h, &conn, &own)
                    case "connect_timeout": warn(h, "a host block's own timeout: lvsh uses the SMTP_CHECK's for every host")
                    case "bind_port", "bind_if", "fwmark": warn(h, "lvsh binds probes to an address only (`source`)")
                    default: throw V.fail(h, "not a host keyword (connect_ip, connect_port, bindto, ...)")
                    }
                }
                c.hosts.append(conn)
            case "type":
                let t = try V.argument(e, 1, "a query type").uppercased()
                guard ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "PTR", "SRV"].contains(t) else {
                    throw V.fail(e, "'\(Shown.word(e.words[1]))' is not a DNS query type keepalived knows")
                }
                c.dnsType = t
            case "name":
                c.dnsName = try V.argument(e, 1, "a domain name")
            case "misc_path":
                c.program = V.scriptWords(try V.argument(e, 1, "a program"))
                if e.words.count > 2 { c.program += V.scriptWords(e.words[2...].joined(separator: " ")) }
            case "misc_timeout": c.miscTimeout = try V.unsigned(e, 1, 1...86_400, what: "seconds") * 1000
            case "misc_dynamic": c.miscDynamic = true
            case "user": warn(e, "lvsh daemon runs check scripts as itself (root)")
            case "payload": c.payload = try V.hex(e.arguments, e).bytes
            case "require_reply":
                c.requireReply = true
                if e.words.count > 1 { c.replyPattern = e.arguments.joined() }
            case "min_reply_length", "max_reply_length":
                warn(e, "lvsh's udp check compares the start of the answer only (`expect`)")
            case "track_file": c.trackFile = try V.argument(e, 1, "a track_file name")
            case "weight":
                c.fileWeight = try V.signed(e, 1)
                if e.words.count > 2 {
                    guard e.words[2] == "reverse" else { throw V.fail(e, "only `reverse` may follow the weight") }
                    c.fileReverse = true
                }
            default: break
            }
        }
        switch kind {
        case .misc where c.program.isEmpty: throw V.fail(s, "needs misc_path, the program to run")
        case .file where c.trackFile == nil: throw V.fail(s, "needs track_file, the name of a track_file block")
        case .http, .ssl:
            if c.urls.isEmpty { throw V.fail(s, "needs at least one url { path ... } block") }
        default: break
        }
        return c
    }

    mutating func connection(_ e: Statement, _ conn: inout Connection, _ t: inout CheckTiming) throws(LVSError) {
        switch e.keyword {
        case "connect_ip": conn.address = try V.address(e, 1)
        case "connect_port": conn.port = UInt16(try V.unsigned(e, 1, 1...65535, what: "a port"))
        case "bindto": conn.source = try V.address(e, 1)
        case "connect_timeout": t.connectTimeout = try V.timer(e, minimumMilliseconds: 1)
        default: break
        }
    }

    mutating func url(_ s: Statement) throws(LVSError) -> URLDef {
        var u = URLDef(place: s.place)
        for e in try block(s) {
            try noBlock(e)
            switch e.keyword {
            case "path": u.path = try V.argument(e, 1, "a path")
            case "digest":
                let d = try V.argument(e, 1, "an MD5 digest")
                guard d.count == 32, d.allSatisfy(\.isHexDigit) else { throw V.fail(e, "'\(Shown.word(d))' is not an MD5 digest (32 hex digits)") }
                u.digest = d.lowercased()
            case "status_code": u.statuses = try V.statuses(e)
            case "virtualhost": u.virtualhost = try V.argument(e, 1, "a host name")
            case "regex": u.regex = try V.argument(e, 1, "a regular expression")
            case "regex_no_match": u.regexNoMatch = true
            case "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack":
                warn(e, "lvsh searches the whole body with a Swift regular expression, without PCRE options")
            default: throw V.fail(e, "not a url keyword (path, digest, status_code, virtualhost, regex...)")
            }
        }
        guard u.path != nil else { throw V.fail(s, "needs a path") }
        return u
    }
}
