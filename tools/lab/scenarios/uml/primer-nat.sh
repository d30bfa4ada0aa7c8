#!/bin/bash
# The LVS primer's NAT cluster, built with `lvsh ipvsadm`, with real traffic.
# Why: this is the demo the README shows; its log is written for a human
# to read. The director (this namespace) has the VIP 192.168.61.129 on its
# outside link and 192.168.147.1 inside; the real servers 192.168.147.129
# and .130 use the director as their default gateway, so their replies are
# un-masqueraded on the way back. Round robin alternates rs1 and rs2; after
# switching the scheduler to source hashing (sh) one client always gets the
# same server.
# timeout: 90
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

VIP=192.168.61.129
say() { printf '%s\n' "$*"; }
# lvsh_do ARG...: show an `lvsh ipvsadm` command, then run it.
lvsh_do() { say "  \$ lvsh ipvsadm $*"; "$LVSH" ipvsadm "$@" | sed 's/^/    /'; }
# fetch N: the client connects N times to VIP:80; prints who answered.
fetch() {
    local i answer
    for ((i = 1; i <= $1; i++)); do
        answer=$(tcp_get client $VIP 80)
        say "    connection $i -> $answer" >&2
        echo "$answer"
    done
}

say "== The network"
netns_add client
netns_add rs1
netns_add rs2
# Outside: the client on 192.168.61.0/24, the VIP on the director's link.
veth_pair client eth0 192.168.61.10/24 "$LAB_NS" out0 192.168.61.1/24
ip addr add $VIP/32 dev out0
# Inside: one link per real server (no bridge needed); the director is
# 192.168.147.1 on both, each server's /32 route picks the link.
veth_pair rs1 eth0 192.168.147.129/24 "$LAB_NS" in1 ""
veth_pair rs2 eth0 192.168.147.130/24 "$LAB_NS" in2 ""
for i in 1 2; do
    ip addr add 192.168.147.1/32 dev in$i
    ip route add 192.168.147.$((128 + i))/32 dev in$i
    in_ns rs$i ip route add default via 192.168.147.1
done
sysctl -qw net.ipv4.ip_forward=1
serve_tcp rs1 192.168.147.129 80 "rs1 (192.168.147.129) says hello"
serve_tcp rs2 192.168.147.130 80 "rs2 (192.168.147.130) says hello"
say "  client    192.168.61.10"
say "  director  VIP $VIP on the outside, 192.168.147.1 inside (ip_forward=1)"
say "  rs1       192.168.147.129:80, default gateway 192.168.147.1"
say "  rs2       192.168.147.130:80, default gateway 192.168.147.1"

say ""
say "== A virtual service with round robin and two masqueraded (NAT) real servers"
lvsh_do -A -t $VIP:80 -s rr
lvsh_do -a -t $VIP:80 -r 192.168.147.129 -m
lvsh_do -a -t $VIP:80 -r 192.168.147.130 -m
say "  (-m: masquerading, i.e. NAT; -r without a port takes the service's port 80)"
lvsh_do -L -n

say ""
say "== The client fetches http://$VIP/ four times: rr alternates the servers"
mapfile -t rr < <(fetch 4)
[ "${rr[0]}" != "${rr[1]}" ] && [ "${rr[0]}" = "${rr[2]}" ] && [ "${rr[1]}" = "${rr[3]}" ] ||
    fail "round robin should alternate two servers, got: ${rr[*]}"
say "  ok: the answers alternate between the two real servers"

say ""
say "== Switch to source hashing: one client, one server"
say "  (-E edits the service in place; its real servers stay)"
lvsh_do -E -t $VIP:80 -s sh
mapfile -t sh < <(fetch 4)
[ "${sh[0]}" = "${sh[1]}" ] && [ "${sh[0]}" = "${sh[2]}" ] && [ "${sh[0]}" = "${sh[3]}" ] ||
    fail "source hashing should keep one client on one server, got: ${sh[*]}"
say "  ok: every connection went to the same server (the hash of 192.168.61.10)"

say ""
say "== The table and its counters (the estimator updates them every 2 seconds)"
sleep 2
lvsh_do -L -n
say "  ActiveConn counts established connections, InActConn closed ones still"
say "  remembered by IPVS (TIME_WAIT); all of them are inactive by now."
lvsh_do -L -n --stats
say "  Conns: connections scheduled since the service was created; InPkts/OutPkts"
say "  and InBytes/OutBytes: what the director forwarded each way (IPVS and"
say "  ipvsadm call client -> server 'in' and server -> client 'out')."
# 8 connections in all; the witness, real ipvsadm, must agree.
conns=$(ipvsadm -L -n --stats | awk '$1 == "TCP" {print $3}')
[ "$conns" = 8 ] || fail "the service should show 8 connections, ipvsadm -L -n --stats says '$conns'"
say ""
say "8 connections went through the director: round robin split the first four,"
say "source hashing sent the last four to one server."
