#!/bin/bash
# The qemu lab's groups-traffic scenario, unchanged, with lvsh's iptables
# backend: user-mode-linux has IPVS and iptables but no nf_tables. See
# tools/lab/scenarios/qemu/groups-traffic.sh for what it asserts.
# timeout: 150
GROUPS_BACKEND=iptables
. "$(dirname "$(realpath "$0")")/../qemu/groups-traffic.sh"
