import Engine
import Foundation
import Import
import LVSModel
import Testing

/// The mapping of each keepalived LVS directive onto lvsh; every output is read back by lvsh's evaluator.
struct KeepalivedMappingTests {
    static func real(_ body: String = "weight 1", _ address: String = "192.168.1.1 80") -> String {
        "    real_server \(address) {\n        \(body)\n    }"
    }

    @Test("virtual_server ADDRESS PORT with protocol, scheduler and NAT real servers")
    func addressService() throws {
        let (r, state) = try imported(vs(Self.real("weight 3") + "\n" + Self.real("weight 1", "192.168.1.2")))
        #expect(commands(r) == ["service tcp 10.0.0.1:80 scheduler rr",
                                "real tcp 10.0.0.1:80 192.168.1.1:80 nat weight 3",
                                "real tcp 10.0.0.1:80 192.168.1.2:80 nat weight 1"])
        #expect(state.services[0].service.key == .inet(.tcp, v4("10.0.0.1"), 80))
        #expect(state.services[0].realServers.map(\.server.weight) == [3, 1])
    }

    @Test("virtual_server fwmark N: a fwmark service; DR real servers take port 0")
    func fwmarkService() throws {
        let conf = "virtual_server fwmark 7 {\n    lvs_sched wlc\n    lvs_method DR\n    persistence_timeout 600\n" + Self.real() + "\n}\n"
        let (r, state) = try imported(conf)
        #expect(commands(r).prefix(2) == ["service fwmark 7 scheduler wlc persistent 600", "real fwmark 7 192.168.1.1:0 dr weight 1"])
        #expect(state.services[0].service.key == .fwmark(7, .v4))
    }

    static let group = """
        virtual_server_group web {
            10.0.0.1-3 80
            10.0.0.9 443
            fwmark 5
        }
        virtual_server group web {
            protocol TCP
            lvs_method DR
            real_server 192.168.1.1 80 { weight 1 }
        }
        """

    @Test("virtual_server group NAME: a service per address of each range, and per fwmark")
    func serverGroup() throws {
        let (_, state) = try imported(Self.group)
        #expect(state.services.map(\.service.key) == [.inet(.tcp, v4("10.0.0.1"), 80), .inet(.tcp, v4("10.0.0.2"), 80),
                                                       .inet(.tcp, v4("10.0.0.3"), 80), .inet(.tcp, v4("10.0.0.9"), 443), .fwmark(5, .v4)])
    }

    @Test("--groups: a virtual_server_group becomes one port group and one fwmark service, said on stderr")
    func serverGroupMerged() throws {
        let (r, state) = try imported(Self.group, groups: true)
        #expect(commands(r).contains("group web vip 10.0.0.1,10.0.0.2,10.0.0.3 tcp 80"), "\(r.text)")
        #expect(commands(r).contains("group web add vip 10.0.0.9 tcp 443"), "\(r.text)")
        #expect(state.groups.map(\.name) == ["web"])
        #expect(state.services.count == 2, "the group's service and fwmark 5")
        #expect(r.notes.contains { $0.contains("port group web") })
    }

    @Test("--groups: a group entry without a port (every port) stays a persistent service of its own")
    func portlessEntry() throws {
        let conf = "virtual_server_group g {\n  10.0.0.1 80\n  10.0.0.2\n}\nvirtual_server group g {\n  protocol TCP\n  persistence_timeout 60\n  lvs_method DR\n  real_server 192.168.1.1 80 { weight 1 }\n}\n"
        let (_, state) = try imported(conf, groups: true)
        #expect(state.groups.map(\.name) == ["g"])
        #expect(state.services.map(\.service.key).contains(.inet(.tcp, v4("10.0.0.2"), 0)))
    }

    @Test("nftables_ipvs: groups carry keepalived's own marks, from nftables_ipvs_start_fwmark")
    func nftablesMarks() throws {
        let (r, state) = try imported("global_defs {\n  nftables_ipvs\n  nftables_ipvs_start_fwmark 2000\n}\n" + Self.group)
        #expect(commands(r).contains("group web vip 10.0.0.1,10.0.0.2,10.0.0.3 tcp 80 mark 2000"), "\(r.text)")
        #expect(state.groups.first?.mark == 2000)
    }

    @Test("--groups: virtual servers that differ only by port share one group")
    func portsMerged() throws {
        let conf = vs(Self.real("weight 2", "192.168.1.1")) + vs(Self.real("weight 2", "192.168.1.1"), head: "10.0.0.1 443")
        let (r, state) = try imported(conf, groups: true)
        #expect(commands(r).contains("group vs-10.0.0.1 vip 10.0.0.1 tcp 80,443"), "\(r.text)")
        #expect(state.services.count == 1)
        #expect(state.services[0].realServers.map(\.server.port) == [0])
        #expect(r.notes.contains { $0.contains("merged into port group vs-10.0.0.1") })
    }

    @Test("lvs_sched/lb_algo and scheduler flags", arguments: [
        ("lvs_sched sh\n    sh-port\n    flag-1", "scheduler sh sh-port sh-fallback"),
        ("lb_algo mh\n    mh-fallback\n    flag-2", "scheduler mh mh-fallback mh-port"),
    ])
    func scheduler(_ lines: String, _ expected: String) throws {
        let (r, _) = try imported(vs("    \(lines)\n" + Self.real()).replacingFirst("lb_algo rr\n", with: ""))
        #expect(commands(r).first == "service tcp 10.0.0.1:80 \(expected)", "\(r.text)")
    }

    @Test("ops on UDP is one-packet; flag-3 is warned")
    func onePacket() throws {
        let (r, _) = try imported(vs("    ops\n    flag-3\n" + Self.real()).replacingFirst("protocol TCP", with: "protocol UDP"))
        #expect(commands(r).first == "service udp 10.0.0.1:80 scheduler rr one-packet")
        #expect(r.warnings.contains { $0.contains("`flag-3` is not carried") })
    }

    @Test("lvs_method/lb_kind NAT, DR, TUN with tunnel types, ports and checksums", arguments: [
        ("lb_kind DR", "dr weight 1"),
        ("lvs_method TUN", "tun weight 1"),
        ("lvs_method TUN type gue port 6080 csum", "tun tun-type gue tun-port 6080 tun-csum weight 1"),
        ("lvs_method TUN type gre nocsum", "tun tun-type gre tun-nocsum weight 1"),
    ])
    func forwarding(_ line: String, _ expected: String) throws {
        let (r, _) = try imported(vs("    \(line)\n" + Self.real()).replacingFirst("lb_kind NAT\n", with: ""))
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 \(expected)"), "\(r.text)")
    }

    @Test("persistence_timeout, persistence_granularity, persistence_engine")
    func persistence() throws {
        let (r, state) = try imported(vs("    persistence_timeout 120\n    persistence_granularity 255.255.255.0\n    persistence_engine sip\n" + Self.real())
            .replacingFirst("protocol TCP", with: "protocol UDP"))
        #expect(commands(r).first == "service udp 10.0.0.1:80 scheduler rr persistent 120 netmask 255.255.255.0 pe sip")
        #expect(state.services[0].service.timeout == 120 && state.services[0].service.persistenceEngine == "sip")
    }

    @Test("persistence_granularity of a virtual_server group: not carried, as keepalived 2.2.7 applies none (seen in the lab)")
    func groupGranularity() throws {
        let conf = "virtual_server_group g {\n    10.0.0.1 80\n    2001:db8::1 80\n}\nvirtual_server group g {\n    lb_algo rr\n"
            + "    persistence_timeout 60\n    persistence_granularity 255.255.255.0\n    protocol TCP\n" + Self.real() + "\n}\n"
        let (r, _) = try imported(conf)
        #expect(commands(r).filter { $0.hasPrefix("service ") } == ["service tcp 10.0.0.1:80 scheduler rr persistent 60",
                                                                  "service tcp [2001:db8::1]:80 scheduler rr persistent 60"])
        #expect(r.warnings.contains { $0.contains("keepalived 2.2.7 does not apply it to the services of a virtual_server group") })
    }

    @Test("protocol SCTP; no protocol is UDP, as keepalived makes it, with a warning")
    func proto() throws {
        let (r, _) = try imported(vs(Self.real()).replacingFirst("protocol TCP", with: "protocol SCTP"))
        #expect(commands(r).first == "service sctp 10.0.0.1:80 scheduler rr")
        let (r2, _) = try imported(vs(Self.real()).replacingFirst("    protocol TCP\n", with: ""))
        #expect(commands(r2).first == "service udp 10.0.0.1:80 scheduler rr")
        #expect(r2.warnings.contains { $0.contains("without `protocol`") })
    }

    @Test("uthreshold and lthreshold are upper and lower")
    func thresholds() throws {
        let (r, _) = try imported(vs(Self.real("weight 2\n        uthreshold 100\n        lthreshold 10")))
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 nat weight 2 upper 100 lower 10"))
    }

    @Test("without inhibit_on_failure a failed real server is removed; with it, weight 0")
    func inhibit() throws {
        let (r, state) = try imported(vs(Self.real("TCP_CHECK { }")))
        #expect(commands(r).last == "service tcp 10.0.0.1:80 on-failure remove alpha off")
        #expect(state.health.policy(.inet(.tcp, v4("10.0.0.1"), 80)).onFailure == .remove)
        let (r2, state2) = try imported(vs("    inhibit_on_failure\n    alpha\n" + Self.real("TCP_CHECK { }")))
        #expect(!commands(r2).contains { $0.contains("on-failure") || $0.contains("alpha") }, "\(r2.text)")
        #expect(state2.health.policy(.inet(.tcp, v4("10.0.0.1"), 80)) == .default)
    }

    @Test("quorum, hysteresis and sorry_server")
    func quorum() throws {
        let body = "    quorum 3\n    hysteresis 1\n    sorry_server 192.168.1.9 8080\n    sorry_server_inhibit\n"
            + Self.real("weight 2\n        TCP_CHECK { }") + "\n" + Self.real("weight 2\n        TCP_CHECK { }", "192.168.1.2 80")
        let (r, state) = try imported(vs(body))
        #expect(commands(r).last == "service tcp 10.0.0.1:80 on-failure remove alpha off quorum 3 hysteresis 1 sorry 192.168.1.9:8080", "\(r.text)")
        let p = state.health.policy(.inet(.tcp, v4("10.0.0.1"), 80))
        #expect(p.quorum == 3 && p.hysteresis == 1 && p.sorry == RealServerKey(address: v4("192.168.1.9"), port: 8080))
        #expect(r.warnings.contains { $0.contains("sorry_server_inhibit is not carried") })
    }

    @Test("quorum above the total weight is lowered as keepalived does")
    func quorumClamped() throws {
        let (r, _) = try imported(vs("    quorum 10\n    hysteresis 10\n" + Self.real("TCP_CHECK { }")))
        #expect(commands(r).last == "service tcp 10.0.0.1:80 on-failure remove alpha off quorum 1", "\(r.text)")
        #expect(r.warnings.count == 2)
    }

    @Test("delay_loop → interval, connect_timeout → timeout, retry → fall = retry + 1, inherited from the virtual server")
    func timing() throws {
        let (r, state) = try imported(vs("    delay_loop 2.5\n    retry 4\n" + Self.real("TCP_CHECK {\n            connect_timeout 1.25\n        }")))
        #expect(r.text.contains("check tcp-1 tcp interval 2.5 timeout 1.25 rise 1 fall 5\n"), "\(r.text)")
        let check = try #require(state.health.check(named: "tcp-1"))
        #expect((check.intervalMilliseconds, check.timeoutMilliseconds, check.rise, check.fall) == (2500, 1250, 1, 5))
    }

    @Test("a connect_timeout longer than delay_loop becomes the interval, with a warning")
    func timeoutClamped() throws {
        let (r, _) = try imported(vs("    delay_loop 2\n" + Self.real("TCP_CHECK {\n            connect_timeout 5\n        }")))
        #expect(r.text.contains("check tcp-1 tcp interval 2 timeout 2 rise 1 fall 2\n"), "\(r.text)")
        #expect(r.warnings.contains { $0.contains("longer than delay_loop") })
    }

    @Test("connect_ip, connect_port and bindto are address, port and source")
    func connection() throws {
        let (r, _) = try imported(vs(Self.real("TCP_CHECK {\n            connect_ip 192.168.2.1\n            connect_port 8080\n            bindto 10.0.0.254\n        }")))
        #expect(r.text.contains("check tcp-1 tcp address 192.168.2.1 source 10.0.0.254 port 8080 interval 60 timeout 5 rise 1 fall 2"), "\(r.text)")
    }

    @Test("HTTP_GET: a check per url with path, digest, status_code, virtualhost, regex")
    func httpGet() throws {
        let checker = """
            HTTP_GET {
                        url {
                            path /health
                            status_code 200-299 302
                            regex "ok|fine"
                        }
                        url {
                            path /other
                            digest 640205B7B0FC66C1EA91C463FAC6334D
                            virtualhost other.example
                        }
                    }
            """
        let (r, state) = try imported(vs("    virtualhost www.example\n" + Self.real(checker)))
        #expect(r.text.contains("check http-1 http path /health host www.example status 200-299,302 expect 'ok|fine' interval 60 timeout 5 rise 1 fall 2\n"), "\(r.text)")
        #expect(r.text.contains("check http-2 http path /other host other.example digest 640205b7b0fc66c1ea91c463fac6334d"), "\(r.text)")
        #expect(state.health.serviceChecks[.inet(.tcp, v4("10.0.0.1"), 80)] == ["http-1", "http-2"])
    }

    @Test("SSL_GET is https; enable_sni sends the virtualhost")
    func sslGet() throws {
        let (r, _) = try imported(vs(Self.real("SSL_GET {\n            enable_sni\n            virtualhost tls.example\n            url { path / }\n        }")))
        #expect(r.text.contains("check https-1 https path / host tls.example sni tls.example"), "\(r.text)")
    }

    @Test("DNS_CHECK: type and name; retry 3 by default")
    func dnsCheck() throws {
        let (r, _) = try imported(vs(Self.real("DNS_CHECK {\n            type AAAA\n            name example.net\n        }")).replacingFirst("protocol TCP", with: "protocol UDP"))
        #expect(r.text.contains("check dns-1 dns query example.net type AAAA interval 60 timeout 5 rise 1 fall 4"), "\(r.text)")
    }

    @Test("SMTP_CHECK: helo_name, and a check per host block")
    func smtpCheck() throws {
        let (r, state) = try imported(vs(Self.real("SMTP_CHECK {\n            helo_name lb.example\n            host { connect_ip 192.168.2.1 }\n            host { connect_ip 192.168.2.2\n connect_port 587 }\n        }", "192.168.1.1 25"), head: "10.0.0.1 25"))
        #expect(r.text.contains("check smtp-1 smtp helo lb.example address 192.168.2.1 interval"), "\(r.text)")
        #expect(r.text.contains("check smtp-2 smtp helo lb.example address 192.168.2.2 port 587 interval"), "\(r.text)")
        #expect(state.health.serviceChecks.values.first == ["smtp-1", "smtp-2"])
    }

    @Test("MISC_CHECK: script with its arguments, misc_timeout, retry 0 by default; misc_dynamic keeps lvsh's weights")
    func miscCheck() throws {
        let (r, _) = try imported(vs("    delay_loop 10\n" + Self.real("MISC_CHECK {\n            misc_path \"/usr/local/bin/check --quick\"\n            misc_timeout 3\n            misc_dynamic\n        }")))
        #expect(r.text.contains("check script-1 script interval 10 timeout 3 rise 1 fall 1 /usr/local/bin/check --quick\n"), "\(r.text)")
        #expect(!r.warnings.contains { $0.contains("misc_dynamic") })
        let (r2, _) = try imported(vs(Self.real("MISC_CHECK {\n            misc_path check.sh\n        }")))
        #expect(r2.warnings.contains { $0.contains("MISC_CHECK is not carried: lvsh runs a program by its absolute path") })
    }

    @Test("PING_CHECK and UDP_CHECK with payload and require_reply")
    func pingAndUDP() throws {
        let (r, _) = try imported(vs(Self.real("PING_CHECK { }\n        UDP_CHECK {\n            payload 68 65 6c6c6f\n            require_reply 6f6b\n        }")).replacingFirst("protocol TCP", with: "protocol UDP"))
        #expect(r.text.contains("check ping-1 ping interval 60 timeout 5 rise 1 fall 2\n"), "\(r.text)")
        #expect(r.text.contains("check udp-1 udp payload 68656c6c6f expect 6f6b interval"), "\(r.text)")
    }

    @Test("FILE_CHECK reads its track_file's file and weight")
    func fileCheck() throws {
        let conf = "track_file drain {\n    file /run/drain\n    weight 10\n}\n" + vs(Self.real("FILE_CHECK { track_file drain }"))
        let (r, state) = try imported(conf)
        #expect(r.text.contains("check file-1 file path /run/drain weight 10 interval 1 timeout 1 rise 1 fall 1\n"), "\(r.text)")
        #expect(state.health.check(named: "file-1")?.probe == .file(path: "/run/drain", weight: 10))
    }

    @Test("BFD_CHECK is warned, not carried")
    func bfdCheck() throws {
        let (r, _) = try imported(vs(Self.real("BFD_CHECK { name n1 }")))
        #expect(r.warnings.contains { $0.contains("`BFD_CHECK` is not carried") })
        #expect(!r.text.contains("check "))
    }

    @Test("checks that differ per real server are bound per real server; identical probes share one name")
    func perReal() throws {
        let body = Self.real("TCP_CHECK { connect_port 81 }") + "\n" + Self.real("TCP_CHECK { connect_port 82 }", "192.168.1.2 80")
            + "\n" + Self.real("TCP_CHECK { connect_port 81 }", "192.168.1.3 80")
        let (r, state) = try imported(vs(body))
        #expect(commands(r).filter { $0.hasPrefix("check ") }.count == 2)
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.1:80 check tcp-1"))
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.2:80 check tcp-2"))
        #expect(commands(r).contains("real tcp 10.0.0.1:80 192.168.1.3:80 check tcp-1"))
        #expect(state.health.serviceChecks.isEmpty && state.health.realChecks.count == 3)
    }

    @Test("lvs_timeouts is timeout")
    func timeouts() throws {
        let (r, state) = try imported("global_defs {\n  lvs_timeouts tcp 7200 tcpfin 60 udp 30\n}\n" + vs(Self.real()))
        #expect(commands(r).first == "timeout tcp 7200 tcpfin 60 udp 30")
        #expect(state.timeouts == Timeouts(tcp: 7200, tcpFin: 60, udp: 30))
    }

    @Test("lvs_sync_daemon without a VRRP instance runs both sync daemons; with one it is warned")
    func syncDaemon() throws {
        let (r, state) = try imported("global_defs {\n  lvs_sync_daemon eth1 id 5 maxlen 1400 port 8848 ttl 2 group 224.0.0.81\n}\n" + vs(Self.real()))
        #expect(commands(r).prefix(2) == ["sync master interface eth1 id 5 maxlen 1400 group 224.0.0.81 port 8848 ttl 2",
                                          "sync backup interface eth1 id 5 maxlen 1400 group 224.0.0.81 port 8848 ttl 2"])
        #expect(state.daemons.count == 2)
        let (r2, state2) = try imported("vrrp_instance VI_1 {\n  interface eth0\n}\nglobal_defs {\n  lvs_sync_daemon eth1 VI_1\n}\n" + vs(Self.real()))
        #expect(state2.daemons.isEmpty)
        #expect(r2.warnings.contains { $0.contains("it follows VRRP instance VI_1") })
    }

    @Test("VRRP, scripts, notifications and global_defs parts are each warned, never dropped silently")
    func warnings() throws {
        let conf = """
            global_defs {
                router_id lb1
                notification_email { ops@example.net }
                script_user nobody
            }
            vrrp_script chk { script "/bin/true" }
            vrrp_instance VI_1 {
                interface eth0
            }
            virtual_server 10.0.0.1 80 {
                protocol TCP
                quorum_up /bin/up
                real_server 192.168.1.1 80 {
                    notify_down /bin/down
                    TCP_CHECK { }
                }
            }
            """
        let (r, _) = try imported(conf)
        for word in ["router_id", "notification_email", "script_user", "vrrp_script", "vrrp_instance", "quorum_up", "notify_down"] {
            #expect(r.warnings.contains { $0.contains("`\(word)") && $0.contains("not carried") }, "\(word): \(r.warnings)")
        }
        #expect(r.warnings.allSatisfy { $0.hasPrefix(mainPath + ":") })
    }

    @Test("IPv6 services and real servers")
    func ipv6() throws {
        let (r, state) = try imported(vs(Self.real("weight 1", "2001:db8::10 80"), head: "2001:db8::1 80"))
        #expect(commands(r).contains("real tcp [2001:db8::1]:80 [2001:db8::10]:80 nat weight 1"))
        #expect(state.services[0].service.key.family == .v6)
    }
}

extension String {
    func replacingFirst(_ old: String, with new: String) -> String {
        guard let r = range(of: old) else { return self }
        return replacingCharacters(in: r, with: new)
    }
}
