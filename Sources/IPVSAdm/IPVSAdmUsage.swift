/// `ipvsadm -h` and `ipvsadm -v`.
public enum IPVSAdmUsage {
    /// The ipvsadm version lvsh follows.
    public static let ipvsadmVersion = "v1.31 2019/12/24"

    /// What `-v` prints; the IPVS version is what lvsh's headers describe.
    public static func version(program: String = "ipvsadm") -> String {
        "\(program) \(ipvsadmVersion) (lvsh's ipvsadm-compatible front end, IPVS v1.2.1)\n"
    }

    /// What `-h` prints: ipvsadm's usage, with lvsh's notes at the end.
    public static func usage(program: String = "ipvsadm") -> String {
        version(program: program) + text.replacingProgram(with: program) + notes
    }

    private static let notes = """

        lvsh notes:
          Addresses must be numeric (no host name lookups); listings always print
          numbers, as with -n. A bare -p means 360 seconds and --syncid defaults to
          0, as ipvsadm really does. -R reads every line first and applies nothing
          unless all lines are valid (a service that already exists is an error),
          then applies them together, undoing them if the kernel refuses one.

        """

    private static let text = """
        Usage:
          %PROG% -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
          %PROG% -D virtual-service
          %PROG% -C
          %PROG% -R
          %PROG% -S [-n]
          %PROG% -a|e virtual-service -r server-address [options]
          %PROG% -d virtual-service -r server-address
          %PROG% -L|l [virtual-service] [options]
          %PROG% -Z [virtual-service]
          %PROG% --set tcp tcpfin udp
          %PROG% --start-daemon {master|backup} [daemon-options]
          %PROG% --stop-daemon {master|backup}
          %PROG% -h
        
        Commands:
        Either long or short options are allowed.
          --add-service     -A        add virtual service with options
          --edit-service    -E        edit virtual service with options
          --delete-service  -D        delete virtual service
          --clear           -C        clear the whole table
          --restore         -R        restore rules from stdin
          --save            -S        save rules to stdout
          --add-server      -a        add real server with options
          --edit-server     -e        edit real server with options
          --delete-server   -d        delete real server
          --list            -L|-l     list the table
          --zero            -Z        zero counters in a service or all services
          --set tcp tcpfin udp        set connection timeout values
          --start-daemon              start connection sync daemon
          --stop-daemon               stop connection sync daemon
          --help            -h        display this help message
        
        virtual-service:
          --tcp-service|-t  service-address   service-address is host[:port]
          --udp-service|-u  service-address   service-address is host[:port]
          --sctp-service    service-address   service-address is host[:port]
          --fwmark-service|-f fwmark          fwmark is an integer greater than zero
        
        Options:
          --ipv6         -6                   fwmark entry uses IPv6
          --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                              the default scheduler is wlc.
          --pe            engine              alternate persistence engine may be sip,
                                              not set by default.
          --persistent   -p [timeout]         persistent service
          --netmask      -M netmask           persistent granularity mask
          --real-server  -r server-address    server-address is host (and port)
          --gatewaying   -g                   gatewaying (direct routing) (default)
          --ipip         -i                   ipip encapsulation (tunneling)
          --masquerading -m                   masquerading (NAT)
          --tun-type      type                one of ipip|gue|gre,
                                              the default tunnel type is ipip.
          --tun-port      port                tunnel destination port
          --tun-nocsum                        tunnel encapsulation without checksum
          --tun-csum                          tunnel encapsulation with checksum
          --tun-remcsum                       tunnel encapsulation with remote checksum
          --weight       -w weight            capacity of real server
          --u-threshold  -x uthreshold        upper threshold of connections
          --l-threshold  -y lthreshold        lower threshold of connections
          --connection   -c                   output of current IPVS connections
          --timeout                           output of timeout (tcp tcpfin udp)
          --daemon                            output of daemon information
          --stats                             output of statistics information
          --rate                              output of rate information
          --exact                             expand numbers (display exact values)
          --thresholds                        output of thresholds information
          --persistent-conn                   output of persistent connection info
          --tun-info                          output of tunnel information
          --nosort                            disable sorting output of service/server entries
          --sort                              does nothing, for backwards compatibility
          --ops          -o                   one-packet scheduling
          --numeric      -n                   numeric output of addresses and ports
          --sched-flags  -b flags             scheduler flags (comma-separated)
        Daemon Options:
          --syncid sid                        syncid for connection sync (default=255)
          --sync-maxlen length                Max sync message length (default=1472)
          --mcast-interface interface         multicast interface for connection sync
          --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
          --mcast-port port                   UDP port (default=8848)
          --mcast-ttl ttl                     Multicast TTL (default=1)

        """
}

private extension String {
    func replacingProgram(with program: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("  %PROG% ") ? "  " + program + $0.dropFirst(8) : Substring($0) }
            .joined(separator: "\n")
    }
}
