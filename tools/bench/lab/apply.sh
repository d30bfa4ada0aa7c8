#!/bin/bash
# Runs inside the user-mode-linux lab (see tools/bench/apply).
# Every load goes into a fresh network namespace (no destinations in the kernel's dest trash,
# which would slow the adds: see LAB.md).
# timeout: 1500
. "${LAB_LIB:?run via tools/bench/apply}"
need_lvsh
# tools/bench/apply leaves the table size in $LAB_OUT/bench.env.
[ ! -f "${LAB_OUT:-}/bench.env" ] || . "$LAB_OUT/bench.env"
N=${BENCH_SERVICES:-10000}
R=4
TIMEFORMAT=%R
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The same table three ways: ipvsadm -S form (to check the result), keepalived's configuration,
# and lvsh's file (what `lvsh save` would write: services and real servers by mark).
gen "$N" >table.txt
keepalived_conf <table.txt >keepalived.conf
{
    echo "# $N fwmark services x $R NAT real servers"
    echo "sysctl ip_forward 1"
    awk '/^-A/ { print "service fwmark " $3 " scheduler " $5 }
         /^-a/ { print "real fwmark " $3 " " $5 " nat weight " $8 }' table.txt
} >table.lvsh
objects=$((N * (R + 1)))
echo "table: $N fwmark services x $R masquerade real servers = $objects objects"

# keepalived loading the configuration (see time_keepalived).
fresh k
t_keepalived=$(time_keepalived k "$PWD/keepalived.conf") || fail "timing keepalived failed"

# lvsh apply from empty, checked against the table it was generated from.
fresh a
t_first=$(seconds in_ns a "$LVSH" apply "$PWD/table.lvsh")
in_ns a ipvsadm -S -n >applied.txt
cmp -s table.txt applied.txt || { diff table.txt applied.txt | head; fail "the applied table differs from the generated one"; }

# The no-op apply against the reading it must beat.
t_ipvsadm_S=$(best 2 in_ns a ipvsadm -S -n)
in_ns a "$LVSH" apply "$PWD/table.lvsh" --json >noop.json
grep -q '"changed":false' noop.json || fail "the second apply was not a no-op: $(head -c 600 noop.json)"
grep -q '"writes":0' noop.json || fail "the no-op apply wrote to the kernel"
t_noop=$(best 3 in_ns a "$LVSH" apply "$PWD/table.lvsh")

# One weight changed in the middle of the file: exactly one kernel write.
sed "s/^real fwmark $((1000 + N / 2)) 10.2.\([0-9.]*\):80 nat weight 1\$/real fwmark $((1000 + N / 2)) 10.2.\1:80 nat weight 5/" \
    table.lvsh >weight.lvsh
[ "$(diff table.lvsh weight.lvsh | grep -c '^>')" = 1 ] || fail "the weight edit changed $(diff table.lvsh weight.lvsh | grep -c '^>') lines, not 1"
t0=$(date +%s%N)
in_ns a "$LVSH" apply "$PWD/weight.lvsh" --json >weight.json
t_weight=$(echo "scale=3; ($(date +%s%N) - $t0) / 1000000000" | bc)
writes=$(grep -o '"writes":[0-9]*' weight.json | cut -d: -f2)
steps=$(grep -o '{"op":"[^"]*","object":"[^"]*"' weight.json)
changed="-a -f $((1000 + N / 2)) -r 10.2.$(((N / 2) / 250)).$(((N / 2) % 250 + 1)):80 -m -w 5"
in_ns a ipvsadm -S -n >weight.txt
grep -qx -- "$changed" weight.txt || { head -c 2000 weight.json; diff applied.txt weight.txt; fail "the kernel lacks: $changed"; }

cat <<REPORT

                                          time (s)   ratio   target
keepalived loading the config (fresh ns)  $t_keepalived
lvsh apply from empty (fresh ns)          $t_first      $(ratio $t_first $t_keepalived) x keepalived (<= 0.2)
ipvsadm -S -n (best of 2)                 $t_ipvsadm_S
lvsh apply, nothing to do (best of 3)     $t_noop      $(ratio $t_noop $t_ipvsadm_S) x ipvsadm -S -n (<= 0.25)
lvsh apply --json, one weight changed     $t_weight      kernel writes: $writes (target 1)
  plan: $steps
REPORT
[ "$writes" = 1 ] || fail "one changed weight made $writes kernel writes"
