#!/bin/bash
# Firewall-mark service with persistence, built by `lvsh ipvsadm`, with real
# TCP traffic: the classic way to keep one client on one real server for
# both HTTP (80) and HTTPS (443).
# Why: this is what port groups + persistence promise. An iptables mangle
# rule marks VIP:80 and VIP:443 with mark 1 (iptables-legacy: this kernel
# has no nf_tables); IPVS balances mark 1 with rr and 60 s persistence to two
# NAT real servers. Asserted: each client stays on one server for both
# ports; two new clients go to different servers (rr hands out the servers
# in turn, the persistence template then pins each client); a port outside
# the mark is not balanced; and the counters show the traffic, read by
# lvsh exactly as the real ipvsadm reads them.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

VIP=10.0.0.100
# Two clients, each in its own namespace and on its own link to the director
# (this namespace); two real servers behind it.
netns_add fw-client1
netns_add fw-client2
netns_add fw-rs1
netns_add fw-rs2
veth_pair fw-client1 eth0 10.0.1.2/24 "$LAB_NS" c1 10.0.1.1/24
veth_pair fw-client2 eth0 10.0.2.2/24 "$LAB_NS" c2 10.0.2.1/24
veth_pair fw-rs1 eth0 10.0.11.11/24 "$LAB_NS" r1 10.0.11.1/24
veth_pair fw-rs2 eth0 10.0.12.12/24 "$LAB_NS" r2 10.0.12.1/24
in_ns fw-client1 ip route add default via 10.0.1.1
in_ns fw-client2 ip route add default via 10.0.2.1
# NAT: replies must come back through the director to be un-translated.
in_ns fw-rs1 ip route add default via 10.0.11.1
in_ns fw-rs2 ip route add default via 10.0.12.1
sysctl -qw net.ipv4.ip_forward=1
# The VIP is local to the director (IPVS takes packets at LOCAL_IN).
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0

# Each server answers with its own name and port, e.g. rs1-443.
for rs in 1 2; do
    for port in 80 443; do
        serve_tcp fw-rs$rs 10.0.1$rs.1$rs $port rs$rs-$port
    done
done

# Mark 80 and 443 to the VIP; 8080 stays unmarked.
iptables-legacy -t mangle -A PREROUTING -d $VIP/32 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1
at_exit "iptables-legacy -t mangle -F PREROUTING"

echo "== the service, built with lvsh ipvsadm"
"$LVSH" ipvsadm -A -f 1 -s rr -p 60
"$LVSH" ipvsadm -a -f 1 -r 10.0.11.11 -m
"$LVSH" ipvsadm -a -f 1 -r 10.0.12.12 -m
ipvsadm -S -n
assert_eq "-A -f 1 -s rr -p 60
-a -f 1 -r 10.0.11.11:0 -m -w 1
-a -f 1 -r 10.0.12.12:0 -m -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n after lvsh built the service"

# visits NS: connect 6 times, ports interleaved 80, 443, 80, ...; print the
# server that answered; fail if a server answered for another port or if
# the client did not stay on one server.
visits() {
    local ns=$1 port answer server= i
    for i in 1 2 3 4 5 6; do
        port=$((i % 2 ? 80 : 443))
        answer=$(tcp_get "$ns" $VIP $port)
        echo "   $ns -> $VIP:$port answered by $answer" >&2
        [[ $answer == rs?-$port ]] || fail "$ns: port $port answered by $answer"
        [ -z "$server" ] || [ "$server" = "${answer%-*}" ] ||
            fail "$ns moved from $server to ${answer%-*}: persistence across ports is broken"
        server=${answer%-*}
    done
    echo "$server"
}

echo
echo "== traffic"
s1=$(visits fw-client1)
s2=$(visits fw-client2)
echo "client1 stayed on $s1 for ports 80 and 443; client2 stayed on $s2"
[ "$s1" != "$s2" ] || fail "both clients landed on $s1: rr should hand the second new client the other server"

# The director itself serves nothing on 8080 and the port is not marked:
# a connection must be refused (or time out), not balanced.
if in_ns fw-client1 timeout 5 bash -c 'exec 3<>/dev/tcp/$0/8080 && cat <&3' $VIP 2>/dev/null; then
    fail "$VIP:8080 (not marked) answered"
fi
echo "$VIP:8080 (outside the mark) is not balanced: the connection failed"

# Counters: the estimator copies them every 2 s.
echo
echo "== counters"
sleep 3
ipvsadm -L -n --stats >"$LAB_TMP/stats-ipvsadm"
rc=0
"$LVSH" ipvsadm -L -n --stats >"$LAB_TMP/stats-lvsh" || rc=$?
ipvsadm -L -n --stats >"$LAB_TMP/stats-ipvsadm2"
cat "$LAB_TMP/stats-lvsh"
[ $rc = 0 ] || fail "lvsh ipvsadm -L -n --stats exited $rc"
# Conns per line of the real listing: the service's and both servers'.
conns=$(awk '/^FWM|^  ->/ && $0 !~ /RemoteAddress/ {print $(NF-4)}' "$LAB_TMP/stats-ipvsadm" | xargs)
echo "Conns (service, then each real server): $conns"
assert_eq "12 6 6" "$conns" "Conns column of ipvsadm -L -n --stats (12 connections, 6 per server)"
# No traffic flows any more, so two real readings agree and lvsh's must be
# byte-identical; if the real ones moved, compare the Conns column only.
if cmp -s "$LAB_TMP/stats-ipvsadm" "$LAB_TMP/stats-ipvsadm2"; then
    assert_file_eq "$LAB_TMP/stats-ipvsadm" "$LAB_TMP/stats-lvsh" "lvsh ipvsadm -L -n --stats (vs. real ipvsadm)"
else
    echo "(counters moved between the two real readings: comparing Conns only)"
    assert_eq "$conns" "$(awk '/^FWM|^  ->/ && $0 !~ /RemoteAddress/ {print $(NF-4)}' "$LAB_TMP/stats-lvsh" | xargs)" \
        "Conns column of lvsh ipvsadm -L -n --stats"
fi
echo "lvsh's --stats listing matches the real ipvsadm's"
