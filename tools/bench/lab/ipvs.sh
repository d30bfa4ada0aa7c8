#!/bin/bash
# Runs inside the user-mode-linux lab (see tools/bench/ipvs).
# timeout: 1500
. "${LAB_LIB:?run via tools/bench/ipvs}"
need_lvsh
N=${BENCH_SERVICES:-10000}
R=4
TIMEFORMAT=%R

# The same table three ways: ipvsadm -R input, keepalived configuration, and a 1,000-service slice.
gen() {
    local n=$1 i j
    for ((i = 0; i < n; i++)); do
        echo "-A -f $((1000 + i)) -s wlc"
        for ((j = 1; j <= R; j++)); do
            echo "-a -f $((1000 + i)) -r 10.$((j)).$((i / 250)).$((i % 250 + 1)):80 -m -w 1"
        done
    done
}
gen "$N" >table.txt
gen 1000 >small.txt
awk -v R=$R '
    /^-A/ { if (open) print "}"; print "virtual_server fwmark " $3 " {\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP"; open = 1 }
    /^-a/ { split($5, a, ":"); print "  real_server " a[1] " " a[2] " {\n    weight 1\n  }" }
    END { if (open) print "}" }' table.txt >keepalived.conf
objects=$((N * (R + 1)))
echo "table: $N fwmark services x $R masquerade real servers = $objects objects"

# fresh NAME: a namespace whose real-server subnet is routable.
fresh() {
    netns_add "$1"
    in_ns "$1" ip link add d0 type dummy
    in_ns "$1" ip addr add 10.0.0.1/8 dev d0
    in_ns "$1" ip link set d0 up
}
# seconds CMD...: wall time of a command, in seconds with milliseconds.
seconds() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
ratio() { echo "scale=3; $1 / $2" | bc; }

fresh a; t_ipvsadm_R=$(seconds in_ns a ipvsadm -R <table.txt)
fresh b; t_lvsh_R=$(seconds in_ns b "$LVSH" ipvsadm -R <table.txt)

# keepalived logs "Startup complete" once its checker has added every virtual and real server: waiting
# for that line costs it nothing, where polling with `ipvsadm -L` every 0.1 s (a few process starts per
# poll, each ~20 ms here) took a third of the one CPU from keepalived. One query then checks the table.
fresh c
: >keepalived.log
t0=$(date +%s%N)
in_ns c keepalived -n -l -C -f "$PWD/keepalived.conf" -p "$PWD/k.pid" -c "$PWD/kc.pid" >>keepalived.log 2>&1 &
grep -m1 -q "Startup complete" < <(exec timeout 300 tail -n +1 -f -s 0.05 keepalived.log) \
    || fail "keepalived did not finish starting in 300 s (see keepalived.log)"
t_keepalived=$(echo "scale=3; ($(date +%s%N) - $t0) / 1000000000" | bc)
kill $! 2>/dev/null || true
last=$((1000 + N - 1))
[ "$(in_ns c ipvsadm -L -n -f $last 2>/dev/null | grep -c -- '->' || true)" -ge $((R + 1)) ] \
    || fail "keepalived reported its startup complete before its table was loaded"
# Stop keepalived before anything else is measured. `$!` of `in_ns ... &` is the shell running
# `ip netns exec`, not keepalived, whose processes would otherwise keep running (and, once told to
# stop, spend seconds removing their table) during the measurements below.
kill "$(cat k.pid)"
for ((i = 0; i < 1500; i++)); do pgrep -x keepalived >/dev/null || break; sleep 0.2; done
! pgrep -x keepalived >/dev/null || fail "keepalived did not stop within 300 s"

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
REPORT
