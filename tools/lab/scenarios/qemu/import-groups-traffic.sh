#!/bin/bash
# `lvsh import keepalived --groups` on Debian's keepalived.conf.virtual_server_group sample (its real
# servers moved into namespaces of this lab), applied with nftables marks and IPVS, with real TCP.
# Asserted:
#  - the group's address entries (10.0.0.1:8080, 10.0.0.2:80, 192.168.200.1:1358, 192.168.200.3-10:80)
#    are one lvsh group VSG_1 with one mark and one fwmark service (rr, persistent 50, the two NAT real
#    servers on port 1358); the group's `fwmark 1` and `fwmark 2` entries stay fwmark services;
#  - two clients connecting to several of the group's addresses and ports: each stays on one real
#    server across all of them (one persistence for the whole group), the two on different servers;
#    an address and port outside the group is not balanced;
#  - `lvsh adopt` on this kernel prints `show running-config`; with a foreign nftables table marking
#    for fwmark 1, adopt carries its rule as a (commented) group and `lvsh apply` of the output writes
#    nothing (nft ruleset and ipvsadm -S -n identical).
# timeout: 300
. "${LAB_LIB:?run via tools/lab/qemu/run}"
need_lvsh

client_a=10.9.0.2 client_b=10.9.0.3 RS1=10.0.1.11 RS2=10.0.2.12
netns_add client
netns_add rs1
netns_add rs2
veth_pair client eth0 $client_a/24 "$LAB_NS" c0 10.9.0.1/24
ip -n client addr add $client_b/24 dev eth0
veth_pair rs1 eth0 $RS1/24 "$LAB_NS" r1 10.0.1.1/24
veth_pair rs2 eth0 $RS2/24 "$LAB_NS" r2 10.0.2.1/24
in_ns client ip route add default via 10.9.0.1
in_ns rs1 ip route add default via 10.0.1.1
in_ns rs2 ip route add default via 10.0.2.1
sysctl -qw net.ipv4.ip_forward=1
ip link add vip0 type dummy
ip link set vip0 up
for a in 10.0.0.1 10.0.0.2 192.168.200.1 $(seq -f 192.168.200.%g 3 10); do ip addr add $a/32 dev vip0; done

# Each real server answers with its name on every port of the group: a persistent fwmark service keeps
# the client's destination port (IPVS uses a real server's port only when the packet's port is the
# service's, 0 here), as it does under keepalived.
for port in 1358 80 8080; do
    serve_tcp rs1 $RS1 $port rs1
    serve_tcp rs2 $RS2 $port rs2
done
serve_tcp "$LAB_NS" 10.0.0.1 80 director-80

sed -e "s/real_server 192.168.200.1 1358/real_server $RS1 1358/" -e "s/real_server 192.168.200.2 1358/real_server $RS2 1358/" \
    /usr/share/doc/keepalived/samples/keepalived.conf.virtual_server_group >keepalived.conf
"$LVSH" import keepalived keepalived.conf --groups >site.lvsh 2>import.err || { cat import.err >&2; fail "import failed"; }
cat site.lvsh
grep -q "its 4 address entries → port group VSG_1, one fwmark service" import.err || fail "import did not say it made group VSG_1"
"$LVSH" --backend nft apply site.lvsh >apply.log 2>&1 || { cat apply.log >&2; fail "apply failed"; }
"$LVSH" show groups --json | tee groups.json
mark=$(sed -n 's/.*"name":"VSG_1","mark":\([0-9]*\).*/\1/p' groups.json)
[ -n "$mark" ] || fail "no group VSG_1"
entries=$(grep -o '"address"' groups.json | wc -l)
[ "$entries" = 11 ] || fail "group VSG_1 has $entries entries, not 11 (10.0.0.1, 10.0.0.2, 192.168.200.1, 192.168.200.3-10)"
ipvsadm -S -n | tee ipvs.save
assert_eq "-A -f 1 -s rr -p 50
-a -f 1 -r $RS1:1358 -m -w 1
-a -f 1 -r $RS2:1358 -m -w 1
-A -f 2 -s rr -p 50
-a -f 2 -r $RS1:1358 -m -w 1
-a -f 2 -r $RS2:1358 -m -w 1
-A -f $mark -s rr -p 50
-a -f $mark -r $RS1:1358 -m -w 1
-a -f $mark -r $RS2:1358 -m -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n"

diag() {
    { ipvsadm -L -n -c; ipvsadm -L -n --stats; nft list table inet lvsh | sed -n '1,40p'; ip -s link show vip0; } >&2 || true
}
get() { in_ns client timeout 5 socat -u "TCP4:$2,bind=$1" STDOUT || { diag; fail "no answer from $2 (source $1)"; }; }
visit() {
    local source=$1 server="" a target answers=""
    shift
    for target; do
        a=$(get "$source" "$target")
        answers+="$target=$a "
        [ -n "$server" ] || server=$a
        [ "$a" = "$server" ] || fail "client $source was not kept on one real server: $answers"
    done
    echo "client $source: $answers" >&2
    echo "$server"
}
echo "== traffic across the group's addresses and ports"
server_a=$(visit $client_a 10.0.0.1:8080 10.0.0.2:80 192.168.200.1:1358 192.168.200.7:80 192.168.200.10:80 10.0.0.1:8080)
server_b=$(visit $client_b 192.168.200.3:80 10.0.0.2:80 10.0.0.1:8080 192.168.200.1:1358)
[[ $server_a == rs? && $server_b == rs? ]] || fail "answers from '$server_a' and '$server_b'"
[ "$server_a" != "$server_b" ] || fail "both clients went to $server_a (rr should give the second client the other server)"
assert_eq director-80 "$(get $client_a 10.0.0.1:80)" "10.0.0.1:80 is not in the group"

echo "== lvsh adopt on this kernel = show running-config"
"$LVSH" show running-config >running.lvsh
"$LVSH" adopt >adopted.lvsh 2>adopt.err
[ ! -s adopt.err ] || { cat adopt.err >&2; fail "adopt warned on lvsh's own kernel"; }
assert_file_eq <(tail -n +2 running.lvsh) <(tail -n +2 adopted.lvsh) "adopt vs running-config"

echo "== a foreign nftables table marking for fwmark 1: adopted as a comment, apply writes nothing"
nft -f - <<'NFT'
table inet legacy_lb {
    chain pre {
        type filter hook prerouting priority mangle; policy accept;
        ip daddr 10.0.5.1 tcp dport { 80, 443 } meta mark set 1
        ip daddr 10.0.5.2 meta l4proto udp th dport 53 meta mark set 2 comment "dns"
        ip saddr 10.9.0.0/24 ip daddr 10.0.5.3 tcp dport 25 meta mark set 1
    }
}
NFT
nft list ruleset >nft.before
ipvsadm -S -n >ipvs.before
"$LVSH" adopt >adopted2.lvsh 2>adopt2.err
cat adopted2.lvsh | head -20
cat adopt2.err
[ "$(wc -l <adopt2.err)" = 1 ] && grep -q "ip saddr" adopt2.err || fail "adopt should warn once, about the saddr rule"
grep -qx "# group mark-1 vip 10.0.5.1 tcp 80,443 mark 1" adopted2.lvsh || fail "mark-1 not carried"
grep -qx "# group mark-2 vip 10.0.5.2 udp 53 mark 2" adopted2.lvsh || fail "mark-2 not carried"
grep -q "^#   nft inet legacy_lb pre handle [0-9]* (comment \"dns\")$" adopted2.lvsh || fail "the rule's origin does not name its comment"
"$LVSH" apply adopted2.lvsh --json >apply2.json
grep -q '"changed":false' apply2.json && grep -q '"writes":0' apply2.json || { cat apply2.json >&2; fail "apply of the adopted configuration wrote"; }
nft list ruleset >nft.after
ipvsadm -S -n >ipvs.after
assert_file_eq nft.before nft.after "nft list ruleset after apply"
assert_file_eq ipvs.before ipvs.after "ipvsadm -S -n after apply"
echo "PASS: group VSG_1 (mark $mark) balanced with one persistence ($client_a: $server_a, $client_b: $server_b); adopt reproduces the kernel"
