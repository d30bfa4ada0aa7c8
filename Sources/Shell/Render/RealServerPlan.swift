import LVSModel

/// What a DR or TUN real server needs so that it accepts packets for the VIP without answering ARP for it:
/// the VIP on lo (DR) or tunl0 (TUN), arp_ignore=1 and arp_announce=2, and for tunnels a loose rp_filter.
struct RealServerPlan {
    enum Step {
        case run(String, [String], why: String)
        case sysctl(String, String, why: String)
    }

    let vip: IPAddress
    let tunnel: Bool

    var steps: [Step] {
        let v6 = vip.family == .v6
        let prefix = v6 ? "128" : "32"
        let device = tunnel ? (v6 ? "ip6tnl0" : "tunl0") : "lo"
        var s: [Step] = []
        if tunnel {
            s.append(.run("modprobe", [v6 ? "ip6_tunnel" : "ipip"], why: "the tunnel device that decapsulates the director's packets"))
            s.append(.run("ip", ["link", "set", device, "up"], why: "bring the tunnel device up"))
        }
        s.append(.run("ip", ["addr", "add", "\(vip)/\(prefix)", "dev", device],
                      why: "accept packets for the VIP here, on a device that does not answer ARP for it"))
        if !v6 {
            for scope in ["all", device] {
                s.append(.sysctl("net.ipv4.conf.\(scope).arp_ignore", "1", why: "answer ARP only for addresses of the asking interface, not the VIP"))
                s.append(.sysctl("net.ipv4.conf.\(scope).arp_announce", "2", why: "never use the VIP as the source of ARP requests"))
            }
            if tunnel {
                for scope in ["all", device] {
                    s.append(.sysctl("net.ipv4.conf.\(scope).rp_filter", "0", why: "accept tunnelled packets whose source is routed elsewhere"))
                }
            }
        }
        return s
    }

    /// The same steps as a shell script for hosts without lvsh.
    var script: String {
        var out = "#!/bin/sh\n# Prepare this host as an LVS \(tunnel ? "TUN" : "DR") real server for \(vip) (written by lvsh).\nset -e\n"
        for step in steps {
            switch step {
            case .run(let tool, let args, let why):
                out += "# \(why)\n"
                let line = ([tool] + args).joined(separator: " ")
                out += tool == "ip" && args.first == "addr" ? "\(line) 2>/dev/null || true\n" : "\(line)\n"
            case .sysctl(let name, let value, let why):
                out += "# \(why)\nsysctl -qw \(name)=\(value)\n"
            }
        }
        return out
    }
}
