#!/bin/bash
# Proves the harness: IPVS works in the scenario's own namespace and
# `ipvsadm -S -n` reads back what was written.
# timeout: 30
. "${LAB_LIB:?run via tools/lab/uml/run}"

# A destination must be unicast-routable from here.
ip link set lo up
ip link add lab0 type dummy
ip addr add 10.1.0.1/24 dev lab0
ip link set lab0 up

ipvsadm -A -t 192.0.2.10:80 -s wlc
ipvsadm -a -t 192.0.2.10:80 -r 10.1.0.11:8080 -m -w 3

assert_eq "-A -t 192.0.2.10:80 -s wlc
-a -t 192.0.2.10:80 -r 10.1.0.11:8080 -m -w 3" "$(ipvsadm -S -n)" "ipvsadm -S -n"
