# Sourced by the benchmark scenarios in this folder (inside the user-mode-linux lab, after lib.sh):
# the table they measure, and how they time things. Needs N (services) and R (real servers each).

# gen SERVICES: the table as `ipvsadm -R` input, fwmark services of R masquerade real servers.
gen() {
    local n=$1 i j
    for ((i = 0; i < n; i++)); do
        echo "-A -f $((1000 + i)) -s wlc"
        for ((j = 1; j <= R; j++)); do
            echo "-a -f $((1000 + i)) -r 10.$((j)).$((i / 250)).$((i % 250 + 1)):80 -m -w 1"
        done
    done
}

# keepalived_conf < TABLE: the same table as keepalived's configuration.
keepalived_conf() {
    awk '
        /^-A/ { if (open) print "}"; print "virtual_server fwmark " $3 " {\n  lb_algo wlc\n  lb_kind NAT\n  protocol TCP"; open = 1 }
        /^-a/ { split($5, a, ":"); print "  real_server " a[1] " " a[2] " {\n    weight 1\n  }" }
        END { if (open) print "}" }'
}

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
    local n=$1 t b= k
    shift
    for ((k = 0; k < n; k++)); do
        t=$(seconds "$@")
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

# time_keepalived NS CONF: seconds keepalived takes to load CONF into the fresh namespace NS; it is
# stopped again before this returns. keepalived logs "Startup complete" once its checker has added
# every virtual and real server: waiting for that line costs it nothing, where polling with
# `ipvsadm -L` every 0.1 s (a few process starts per poll, each ~20 ms here) took a third of the one
# CPU from keepalived. One query then checks the table.
time_keepalived() {
    local ns=$1 conf=$2 t0 t i
    : >keepalived.log
    t0=$(date +%s%N)
    in_ns "$ns" keepalived -n -l -C -f "$conf" -p "$PWD/k.pid" -c "$PWD/kc.pid" >>keepalived.log 2>&1 &
    grep -m1 -q "Startup complete" < <(exec timeout 300 tail -n +1 -f -s 0.05 keepalived.log) \
        || fail "keepalived did not finish starting in 300 s (see keepalived.log)"
    t=$(echo "scale=3; ($(date +%s%N) - $t0) / 1000000000" | bc)
    [ "$(in_ns "$ns" ipvsadm -L -n -f $((1000 + N - 1)) 2>/dev/null | grep -c -- '->' || true)" -ge $((R + 1)) ] \
        || fail "keepalived reported its startup complete before its table was loaded"
    # `$!` of `in_ns ... &` is the shell running `ip netns exec`, not keepalived, whose processes would
    # otherwise keep running (and, once told to stop, spend seconds removing their table) during the
    # measurements that follow.
    kill "$(cat k.pid)"
    for ((i = 0; i < 1500; i++)); do pgrep -x keepalived >/dev/null || break; sleep 0.2; done
    ! pgrep -x keepalived >/dev/null || fail "keepalived did not stop within 300 s"
    echo "$t"
}
