#!/bin/bash
# Runs inside the user-mode-linux lab (see tools/bench/ipvs).
# timeout: 1500
. "${LAB_LIB:?run via tools/bench/ipvs}"
need_lvsh
N=${BENCH_SERVICES:-10000}
R=4
TIMEFORMAT=%R

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The same table three ways: ipvsadm -R input, keepalived configuration, and a 1,000-service slice.
gen "$N" >table.txt
gen 1000 >small.txt
keepalived_conf <table.txt >keepalived.conf
objects=$((N * (R + 1)))
echo "table: $N fwmark services x $R masquerade real servers = $objects objects"

fresh a; t_ipvsadm_R=$(seconds in_ns a ipvsadm -R <table.txt)
fresh b; t_lvsh_R=$(seconds in_ns b "$LVSH" ipvsadm -R <table.txt)

fresh c
t_keepalived=$(time_keepalived c "$PWD/keepalived.conf") || fail "timing keepalived failed"

fresh d
in_ns d strace -f -c -o strace.txt -e trace=sendmsg,sendto,recvmsg,recvfrom "$LVSH" ipvsadm -R <small.txt
calls=$(awk '$NF ~ /^(sendmsg|sendto|recvmsg|recvfrom)$/ { n += $4 } END { print n + 0 }' strace.txt)

# Reading, on the full table lvsh loaded in b (checked against ipvsadm's own listing first).
in_ns b ipvsadm -S -n >ipvsadm-S.txt
in_ns b "$LVSH" ipvsadm -S -n >lvsh-S.txt
cmp -s ipvsadm-S.txt lvsh-S.txt || { diff ipvsadm-S.txt lvsh-S.txt | head; fail "-S -n output differs"; }
in_ns b ipvsadm -L -n >ipvsadm-L.txt
in_ns b "$LVSH" ipvsadm -L -n >lvsh-L.txt
cmp -s ipvsadm-L.txt lvsh-L.txt || { diff ipvsadm-L.txt lvsh-L.txt | head; fail "-L -n output differs"; }
[ "$(grep -c -- '->' ipvsadm-L.txt)" -eq $((N * R + 1)) ] || fail "the loaded table is incomplete"
t_ipvsadm_S=$(seconds in_ns b ipvsadm -S -n)
t_lvsh_S=$(seconds in_ns b "$LVSH" ipvsadm -S -n)
t_ipvsadm_L=$(seconds in_ns b ipvsadm -L -n)
t_lvsh_L=$(seconds in_ns b "$LVSH" ipvsadm -L -n)
t_lvsh_full=$(seconds in_ns b "$LVSH" ipvsadm -L -n --thresholds --persistent-conn --tun-info)
# lvsh's own views of the same table: the JSON of every service (counters included) and the running
# configuration, each checked to hold every service and real server before it is timed.
in_ns b "$LVSH" show services --json >lvsh-services.json
[ "$(grep -o '"fwmark":' lvsh-services.json | wc -l)" -eq "$N" ] || fail "show services --json lacks services"
[ "$(grep -o '"method":' lvsh-services.json | wc -l)" -eq $((N * R)) ] || fail "show services --json lacks real servers"
in_ns b "$LVSH" show running-config >lvsh-running.txt
[ "$(grep -c '^real ' lvsh-running.txt)" -eq $((N * R)) ] || fail "show running-config lacks real servers"
# Best of 3 each, against ipvsadm -S -n's best of 3 taken beside them: one run of each swings by
# a factor of two on a shared host.
t_ipvsadm_S3=$(best 3 in_ns b ipvsadm -S -n)
t_lvsh_json=$(best 3 in_ns b "$LVSH" show services --json)
t_lvsh_running=$(best 3 in_ns b "$LVSH" show running-config)

cat <<REPORT

                                        time (s)   ratio   target
ipvsadm -R                              $t_ipvsadm_R
keepalived loading the same config      $t_keepalived
lvsh ipvsadm -R                         $t_lvsh_R      $(ratio $t_lvsh_R $t_ipvsadm_R) x ipvsadm (<= 0.05), $(ratio $t_lvsh_R $t_keepalived) x keepalived (<= 0.2)
send/receive syscalls per object        $(echo "scale=4; $calls / 5000" | bc)  ($calls for 1,000 services x $R reals; target <= 0.05)
ipvsadm -S -n                           $t_ipvsadm_S
lvsh ipvsadm -S -n  (identical output)  $t_lvsh_S      $(ratio $t_lvsh_S $t_ipvsadm_S) (<= 0.1)
ipvsadm -L -n                           $t_ipvsadm_L
lvsh ipvsadm -L -n  (identical output)  $t_lvsh_L      $(ratio $t_lvsh_L $t_ipvsadm_L) (<= 0.1)
lvsh complete model (thresholds, ...)   $t_lvsh_full      $(ratio $t_lvsh_full $t_ipvsadm_S) x ipvsadm -S -n (<= 0.2)
ipvsadm -S -n, best of 3                $t_ipvsadm_S3
lvsh show services --json, best of 3    $t_lvsh_json      $(ratio $t_lvsh_json $t_ipvsadm_S3) x ipvsadm -S -n best of 3 (<= 0.25)
lvsh show running-config, best of 3     $t_lvsh_running      $(ratio $t_lvsh_running $t_ipvsadm_S3) x ipvsadm -S -n best of 3
REPORT
