#!/bin/bash
# Port groups and a persistent fwmark service, all written by lvsh, with real
# TCP traffic: the nftables backend marks VIP:80 and VIP:443 as group web,
# lvsh's IPVS engine balances the group's mark with rr and 60 s persistence
# over two NAT real servers. Asserted: two clients, several connections each
# to VIP:80 and VIP:443, each client stays on one real server for both ports
# and the two go to different servers; a port outside the group is not
# balanced; a port added with `group web add` joins the same persistence,
# and `group web del` takes it out again; a port range joins the same
# persistence; an `any` group (every address, one port) gets its own
# service. (harness-nft-ipvs.sh does the same
# with nft and ipvsadm; uml/groups-traffic-iptables.sh runs this very file
# with the iptables backend.)
# timeout: 400
. "${LAB_LIB:?run via tools/lab/qemu/run}"
need_lvsh

backend=${GROUPS_BACKEND:-nft}
VIP=10.0.0.100 client_a=10.0.0.2 client_b=10.0.0.3 RS1=10.0.1.11 RS2=10.0.2.12
netns_add client
netns_add rs1
netns_add rs2
veth_pair client eth0 $client_a/24 "$LAB_NS" c0 10.0.0.1/24
ip -n client addr add $client_b/24 dev eth0
veth_pair rs1 eth0 $RS1/24 "$LAB_NS" r1 10.0.1.1/24
veth_pair rs2 eth0 $RS2/24 "$LAB_NS" r2 10.0.2.1/24
in_ns client ip route add default via 10.0.0.1
# NAT: replies must come back through the director to be un-translated.
in_ns rs1 ip route add default via 10.0.1.1
in_ns rs2 ip route add default via 10.0.2.1
sysctl -qw net.ipv4.ip_forward=1
# The VIP is local to the director (IPVS takes packets at LOCAL_IN).
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0

# Each real server answers with its name and the port asked for (a fwmark
# service keeps the client's destination port); the director itself answers
# on 8080 (never in the group) and on 8443 (in the group for a while).
for port in 80 443 8443 9005 5300; do
    serve_tcp rs1 $RS1 $port rs1-$port
    serve_tcp rs2 $RS2 $port rs2-$port
done
serve_tcp "$LAB_NS" $VIP 8080 director-8080
serve_tcp "$LAB_NS" $VIP 8443 director-8443

echo "== lvsh --backend $backend: the group and its service"
"$LVSH" --backend "$backend" -c "group web vip $VIP tcp 80,443; service web scheduler rr persistent 60; real web $RS1 nat; real web $RS2 nat"
"$LVSH" --backend "$backend" show groups
assert_eq "{\"groups\":[{\"name\":\"web\",\"mark\":1000,\"entries\":[{\"address\":\"$VIP\",\"protocol\":\"tcp\",\"ports\":[80,80]},{\"address\":\"$VIP\",\"protocol\":\"tcp\",\"ports\":[443,443]}]}]}" \
    "$("$LVSH" --backend "$backend" show groups --json)" "show groups --json"
assert_eq "-A -f 1000 -s rr -p 60
-a -f 1000 -r $RS1:0 -m -w 1
-a -f 1000 -r $RS2:0 -m -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n"
if [ "$backend" = nft ]; then
    nft list table inet lvsh | grep -F "$VIP . tcp . 80 : 0x000003e8" >/dev/null || fail "nft does not show VIP:80 in map v4_ports"
else
    iptables-legacy-save -t mangle | grep -F -- "-A LVSH -d $VIP/32 -p tcp -m multiport --dports 80,443 -m comment --comment \"lvsh:web\" -j MARK --set-xmark 0x3e8/0xffffffff" >/dev/null ||
        fail "iptables-legacy-save does not show the LVSH rule for VIP:80,443"
fi

# get SOURCE PORT: connect from the client namespace with that source address.
get() {
    in_ns client timeout 5 socat -u "TCP4:$VIP:$2,bind=$1" STDOUT ||
        fail "no answer from $VIP port $2 (source $1)"
}
# visit SOURCE PORT...: connect to each port in turn; prints the one server
# that answered all, else fails.
visit() {
    local source=$1 answers="" server="" a port
    shift
    for port; do
        a=$(get "$source" "$port")
        answers+="$a "
        [ "${a##*-}" = "$port" ] || fail "client $source asked for port $port and got '$a'"
        [ -n "$server" ] || server=${a%-*}
        [ "${a%-*}" = "$server" ] || fail "client $source was not kept on one real server: $answers"
    done
    echo "client $source: $answers" >&2
    echo "$server"
}

echo "== traffic: three rounds of 80 and 443 from each client"
server_a=$(visit $client_a 80 443 80 443 80 443)
server_b=$(visit $client_b 443 80 443 80 443 80)
[[ $server_a == rs? && $server_b == rs? ]] || fail "answers from '$server_a' and '$server_b'"
[ "$server_a" != "$server_b" ] ||
    fail "both clients went to $server_a (round robin should give the second client the other server)"

echo "== a port outside the group is not balanced: the director answers itself"
assert_eq director-8080 "$(get $client_a 8080)" "answer on port 8080"
assert_eq director-8443 "$(get $client_a 8443)" "answer on port 8443 before it joins the group"

echo "== group web add: 8443 joins the group and the clients' persistence"
"$LVSH" --backend "$backend" group web add vip $VIP tcp 8443
assert_eq "$server_a" "$(visit $client_a 8443 80 8443)" "client $client_a's server after adding 8443"
assert_eq "$server_b" "$(visit $client_b 8443 443)" "client $client_b's server after adding 8443"

echo "== group web del: 8443 leaves the group"
"$LVSH" --backend "$backend" group web del vip $VIP tcp 8443
assert_eq director-8443 "$(get $client_a 8443)" "answer on port 8443 after it left the group"
assert_eq "$server_a" "$(visit $client_a 80 443)" "client $client_a's server after deleting 8443"

echo "== a port range joins the group: its packets follow the same persistence"
"$LVSH" --backend "$backend" group web add vip $VIP tcp 9000-9010
assert_eq "$server_a" "$(visit $client_a 9005 80)" "client $client_a's server on the range"
assert_eq "$server_b" "$(visit $client_b 443 9005)" "client $client_b's server on the range"

echo "== an any group: tcp 5300 on every address, its own service"
"$LVSH" --backend "$backend" -c "group dns vip any tcp 5300; service dns scheduler rr; real dns $RS2 nat"
assert_eq rs2-5300 "$(get $client_a 5300)" "answer on port 5300 (group dns)"
assert_eq rs2-5300 "$(get $client_b 5300)" "answer on port 5300 (group dns)"

# The kernel's view: one persistence template per client (protocol IP,
# virtual address = the mark, 1000 = 0.0.3.232), bound to the server that
# client saw.
ipvsadm -L -n -c >&2
declare -A rip=([rs1]=$RS1 [rs2]=$RS2)
assert_eq "$client_a:0 ${rip[$server_a]}:0
$client_b:0 ${rip[$server_b]}:0" "$(ipvsadm -L -n -c | awk '$1 == "IP" && $5 == "0.0.3.232:0" {print $4, $6}' | sort)" \
    "persistence templates (ipvsadm -L -n -c)"
echo "PASS: $backend marks + lvsh's IPVS service: each client stayed on one server ($client_a: $server_a, $client_b: $server_b)"
