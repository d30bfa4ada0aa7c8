#!/bin/bash
# What lvsh is for, shown with real traffic: one port group (a VIP's tcp 80
# and 443) marked by nftables, one persistent IPVS fwmark service over two NAT
# real servers, and clients that each stay on one real server across both
# ports. Why: this is the first half of tools/demo; its log is written for a
# human to read (the primer's NAT cluster, uml/primer-nat.sh, is the second).
# The same checks, in more shapes, are in groups-traffic.sh.
# timeout: 300
. "${LAB_LIB:?run via tools/lab/qemu/run}"
need_lvsh

VIP=10.0.0.100 client_a=10.0.0.2 client_b=10.0.0.3 RS1=10.0.1.11 RS2=10.0.2.12
say() { printf '%s\n' "$*"; }
# lvsh_do ARG...: show an lvsh command line, then run it.
lvsh_do() { say "  \$ lvsh $*"; "$LVSH" "$@" | sed 's/^/    /'; }

say "== The network: two clients, a director with the VIP, two real servers (NAT)"
netns_add client
netns_add rs1
netns_add rs2
veth_pair client eth0 $client_a/24 "$LAB_NS" c0 10.0.0.1/24
ip -n client addr add $client_b/24 dev eth0
veth_pair rs1 eth0 $RS1/24 "$LAB_NS" r1 10.0.1.1/24
veth_pair rs2 eth0 $RS2/24 "$LAB_NS" r2 10.0.2.1/24
in_ns client ip route add default via 10.0.0.1
in_ns rs1 ip route add default via 10.0.1.1
in_ns rs2 ip route add default via 10.0.2.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0
for port in 80 443; do
    serve_tcp rs1 $RS1 $port rs1-$port
    serve_tcp rs2 $RS2 $port rs2-$port
done
say "  clients   $client_a and $client_b"
say "  director  VIP $VIP (tcp 80 and 443)"
say "  rs1       $RS1, answers 'rs1-PORT'"
say "  rs2       $RS2, answers 'rs2-PORT'"

say ""
say "== lvsh: a port group, its persistent service, two real servers"
lvsh_do group web vip $VIP tcp 80,443
lvsh_do service web scheduler rr persistent 300
lvsh_do real web $RS1 nat
lvsh_do real web $RS2 nat
say "  (lvsh turned on net.ipv4.ip_forward for NAT, and said so)"
assert_eq 1 "$(sysctl -n net.ipv4.ip_forward)" "ip_forward after lvsh set up a NAT real server"
lvsh_do show services

say ""
say "== What the kernel now holds (read with nft and ipvsadm, not lvsh)"
say "  \$ nft list map inet lvsh v4_ports"
nft list map inet lvsh v4_ports | sed 's/^/    /'
say "  \$ ipvsadm -S -n"
ipvsadm -S -n | sed 's/^/    /'
assert_eq "-A -f 1000 -s rr -p 300
-a -f 1000 -r $RS1:0 -m -w 1
-a -f 1000 -r $RS2:0 -m -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n"

# visit SOURCE PORT...: one connection per port from that client address;
# prints the one real server that answered all of them.
visit() {
    local source=$1 server="" a port
    shift
    for port; do
        a=$(in_ns client timeout 5 socat -u "TCP4:$VIP:$port,bind=$source" STDOUT) ||
            fail "no answer from $VIP:$port for $source"
        say "    $source -> $VIP:$port answered by $a" >&2
        [ "${a##*-}" = "$port" ] || fail "$source asked for port $port and got '$a'"
        [ -n "$server" ] || server=${a%-*}
        [ "${a%-*}" = "$server" ] || fail "$source moved between real servers ($server, then $a)"
    done
    echo "$server"
}

say ""
say "== Traffic: each client alternates 80 and 443 and stays on one real server"
server_a=$(visit $client_a 80 443 80 443)
server_b=$(visit $client_b 443 80 443 80)
[ "$server_a" != "$server_b" ] || fail "both clients went to $server_a (rr gives the second client the other server)"
say "  client $client_a stayed on $server_a; client $client_b stayed on $server_b"
say "  \$ ipvsadm -L -n -c   (one persistence template per client, on the mark 1000 = 0.0.3.232)"
ipvsadm -L -n -c | awk '$1 == "IP" || NR <= 2' | sed 's/^/    /'

say ""
say "== The configuration, as lvsh saves and applies it (its sysctl lines left out here)"
say "  \$ lvsh show running-config"
"$LVSH" show running-config | sed -n '/^group/,$p' | sed 's/^/    /'
echo "PASS: one group, one persistent service, each client kept on one real server across 80 and 443"
