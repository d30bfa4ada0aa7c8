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

# The same table three ways: ipvsadm -S form (to check the result), keepalived's configuration,
# and lvsh's file (what `lvsh save` would write: services and real servers by mark).
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
awk '
    /^-A/ { if (open) print "}"; print "virtual_server fwmark " $3 " {\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP"; open = 1 }
    /^-a/ { split($5, a, ":"); print "  real_server " a[1] " " a[2] " {\n    weight 1\n  }" }
    END { if (open) print "}" }' table.txt >keepalived.conf
{
    echo "# $N fwmark services x $R NAT real servers"
    echo "sysctl ip_forward 1"
    awk '/^-A/ { print "service fwmark " $3 " scheduler " $5 }
         /^-a/ { print "real fwmark " $3 " " $5 " nat weight " $8 }' table.txt
} >table.lvsh
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
# best N CMD...: the shortest of N runs (the least disturbed by the rest of the machine).
best() {
    local n=$1 t b=
    shift
    for ((k = 0; k < n; k++)); do
        t=$(seconds "$@")
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

# keepalived loading the configuration, timed until the last service has all its real servers.
fresh k
in_ns k keepalived -n -l -C -f "$PWD/keepalived.conf" -p "$PWD/k.pid" -c "$PWD/kc.pid" >keepalived.log 2>&1 &
kpid=$!
t0=$(date +%s%N)
last=$((1000 + N - 1))
until [ "$(in_ns k ipvsadm -L -n -f $last 2>/dev/null | grep -c -- '->' || true)" -ge $((R + 1)) ]; do
    sleep 0.1
    [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 300 ] || fail "keepalived did not load the table in 300 s"
done
t_keepalived=$(echo "scale=3; ($(date +%s%N) - $t0) / 1000000000" | bc)
kill $kpid; wait $kpid 2>/dev/null || true

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
