#!/bin/bash
# Proves the qemu lab: nftables marks and IPVS together in one kernel, with
# real TCP traffic. nftables marks VIP:80 and VIP:443 (a concatenated map),
# an IPVS fwmark service balances that mark with round robin and
# persistence over two NAT real servers, so each client stays on one server
# for both ports; a port outside the map (8080) is not balanced.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/qemu/run}"

vip=10.0.0.100 client_a=10.0.0.2 client_b=10.0.0.3
netns_add client
netns_add rs1
netns_add rs2
veth_pair client eth0 $client_a/24 "$LAB_NS" c0 10.0.0.1/24
ip -n client addr add $client_b/24 dev eth0
veth_pair rs1 eth0 10.0.1.11/24 "$LAB_NS" r1 10.0.1.1/24
veth_pair rs2 eth0 10.0.2.12/24 "$LAB_NS" r2 10.0.2.1/24
in_ns client ip route add default via 10.0.0.1
# NAT: replies must come back through the director to be un-translated.
in_ns rs1 ip route add default via 10.0.1.1
in_ns rs2 ip route add default via 10.0.2.1
sysctl -qw net.ipv4.ip_forward=1
# The VIP lives on the director's (this namespace's) client-side link.
ip addr add $vip/32 dev c0

# Each real server answers with its name and the port asked for (a fwmark
# service keeps the client's destination port); so does the director on
# 8080, the port that nftables does not mark.
for port in 80 443 8080; do
    serve_tcp rs1 10.0.1.11 $port rs1-$port
    serve_tcp rs2 10.0.2.12 $port rs2-$port
done
serve_tcp "$LAB_NS" $vip 8080 director-8080

nft -f - <<NFT
table inet lab {
    map m {
        type ipv4_addr . inet_proto . inet_service : mark
        elements = { $vip . tcp . 80 : 1, $vip . tcp . 443 : 1 }
    }
    chain pre {
        type filter hook prerouting priority mangle; policy accept;
        meta mark set ip daddr . meta l4proto . th dport map @m
    }
}
NFT
ipvsadm -A -f 1 -s rr -p 60
ipvsadm -a -f 1 -r 10.0.1.11 -m
ipvsadm -a -f 1 -r 10.0.2.12 -m

# get SOURCE PORT: connect from the client namespace with that source address.
get() {
    in_ns client timeout 5 socat -u "TCP4:$vip:$2,bind=$1" STDOUT ||
        fail "no answer from $vip port $2 (source $1)"
}
# visit SOURCE: two rounds of port 80 then 443; prints the server once if
# every answer came from the same one, else fails.
visit() {
    local answers="" server="" a
    for port in 80 443 80 443; do
        a=$(get "$1" $port)
        answers+="$a "
        [ "${a##*-}" = "$port" ] || fail "client $1 asked for port $port and got '$a'"
        [ -n "$server" ] || server=${a%-*}
        [ "${a%-*}" = "$server" ] || fail "client $1 was not kept on one real server: $answers"
    done
    echo "client $1: $answers" >&2
    echo "$server"
}
server_a=$(visit $client_a)
server_b=$(visit $client_b)
[ "$server_a" != "$server_b" ] ||
    fail "both clients went to $server_a (round robin should give the second client the other server)"

# Not in the map: no mark, no IPVS service; the director answers itself.
assert_eq director-8080 "$(get $client_a 8080)" "answer on port 8080"

# The kernel's view: one persistence template per client (protocol IP,
# virtual address = the mark), bound to the server that client saw.
ipvsadm -S -n >&2
ipvsadm -L -n -c >&2
declare -A rip=([rs1]=10.0.1.11 [rs2]=10.0.2.12)
assert_eq "$client_a:0 ${rip[$server_a]}:0
$client_b:0 ${rip[$server_b]}:0" "$(ipvsadm -L -n -c | awk '$1 == "IP" && $5 == "0.0.0.1:0" {print $4, $6}' | sort)" \
    "persistence templates (ipvsadm -L -n -c)"
