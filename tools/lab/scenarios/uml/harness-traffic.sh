#!/bin/bash
# Proves traffic flows through IPVS in user-mode-linux: a client namespace,
# this namespace as the NAT director, two real servers, round robin.
# timeout: 60
. "${LAB_LIB:?run via tools/lab/uml/run}"

netns_add client
netns_add rs1
netns_add rs2
veth_pair client eth0 10.0.0.2/24 "$LAB_NS" c0 10.0.0.1/24
veth_pair rs1 eth0 10.0.1.11/24 "$LAB_NS" r1 10.0.1.1/24
veth_pair rs2 eth0 10.0.2.12/24 "$LAB_NS" r2 10.0.2.1/24
in_ns client ip route add default via 10.0.0.1
# NAT: replies must come back through the director to be un-translated.
in_ns rs1 ip route add default via 10.0.1.1
in_ns rs2 ip route add default via 10.0.2.1
sysctl -qw net.ipv4.ip_forward=1

serve_tcp rs1 10.0.1.11 8080 rs1-8080
serve_tcp rs2 10.0.2.12 8080 rs2-8080
# The VIP lives on the director's client-side link.
ip addr add 10.0.0.100/32 dev c0
ipvsadm -A -t 10.0.0.100:80 -s rr
ipvsadm -a -t 10.0.0.100:80 -r 10.0.1.11:8080 -m
ipvsadm -a -t 10.0.0.100:80 -r 10.0.2.12:8080 -m

answers=$(for i in 1 2 3 4; do tcp_get client 10.0.0.100 80; done | sort | uniq -c | awk '{print $2, $1}')
assert_eq "rs1-8080 2
rs2-8080 2" "$answers" "answers to 4 connections (server count)"
