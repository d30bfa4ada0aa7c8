#!/bin/bash
# A keepalived configuration with HTTP_GET checkers, imported by `lvsh import keepalived` and run by
# `lvsh daemon`, behind a NAT director with real HTTP servers (as daemon-health.sh).
# Asserted:
#  - the import carries the checker (http, path, status, interval = delay_loop, timeout =
#    connect_timeout, fall = retry + 1) and inhibit_on_failure as `on-failure weight0`;
#  - both servers up: the kernel has the configured weights and requests are answered;
#  - rs1's server stopped: within interval x fall + timeout + 2 s (the guest's slowness) its weight is
#    0 in `ipvsadm -S -n`, as keepalived with inhibit_on_failure does, and rs2 answers every request;
#  - rs1's server back: its weight returns to 3 (rise 1).
#  - a second virtual server (VIP:81 → the same servers' port 80) without inhibit_on_failure (keepalived's
#    default: remove): rs1 leaves that service within the same bound and comes back with its weight.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

VIP=10.0.0.100
netns_add hg-client
netns_add hg-rs1
netns_add hg-rs2
veth_pair hg-client eth0 10.0.1.2/24 "$LAB_NS" c1 10.0.1.1/24
veth_pair hg-rs1 eth0 10.0.11.11/24 "$LAB_NS" r1 10.0.11.1/24
veth_pair hg-rs2 eth0 10.0.12.12/24 "$LAB_NS" r2 10.0.12.1/24
in_ns hg-client ip route add default via 10.0.1.1
in_ns hg-rs1 ip route add default via 10.0.11.1
in_ns hg-rs2 ip route add default via 10.0.12.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0

http_server() {
    mkdir -p "$LAB_TMP/www-$3"
    printf '%s\n' "$3" >"$LAB_TMP/www-$3/index.html"
    ip netns exec "$1" /usr/bin/python3 -m http.server 80 --bind "$2" --directory "$LAB_TMP/www-$3" >/dev/null 2>&1 &
    echo $!
}
rs1=$(http_server hg-rs1 10.0.11.11 rs1)
rs2=$(http_server hg-rs2 10.0.12.12 rs2)
_lab_pids+=("$rs1" "$rs2")
wait_port hg-rs1 80
wait_port hg-rs2 80

# delay_loop 1, connect_timeout 1, retry 1: down after interval 1 x fall 2 + timeout 1 = 3 s.
cat >keepalived.conf <<EOF2
global_defs {
    router_id lab
}
virtual_server $VIP 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    inhibit_on_failure

    real_server 10.0.11.11 80 {
        weight 3
        HTTP_GET {
            url {
                path /index.html
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
    real_server 10.0.12.12 80 {
        weight 2
        HTTP_GET {
            url {
                path /index.html
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
}
virtual_server $VIP 81 {
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP

    real_server 10.0.11.11 80 {
        weight 4
        HTTP_GET {
            url {
                path /index.html
                status_code 200
            }
            connect_timeout 1
            retry 1
        }
    }
    real_server 10.0.12.12 80 {
        weight 1
        HTTP_GET {
            url {
                path /index.html
                status_code 200
            }
            connect_timeout 1
            retry 1
        }
    }
}
EOF2
"$LVSH" import keepalived keepalived.conf >site.lvsh 2>import.err || { cat import.err >&2; fail "import failed"; }
cat site.lvsh
grep -qx "check http-1 http path /index.html status 200 interval 1 timeout 1 rise 1 fall 2" site.lvsh || fail "the HTTP_GET checker was not carried as expected"
grep -q "^service tcp $VIP:80 .*on-failure remove" site.lvsh && fail "inhibit_on_failure became on-failure remove"
grep -q "^service tcp $VIP:81 on-failure remove" site.lvsh || fail "no inhibit_on_failure did not become on-failure remove"
echo "sysctl ip_forward 1" >>site.lvsh

"$LVSH" daemon "$PWD/site.lvsh" 2>daemon.log &
daemon=$!
at_exit "kill -9 $daemon 2>/dev/null"

# weight_of ADDR [VPORT]: the real server's weight in service VIP:VPORT (80), "" when it is not in it.
weight_of() { ipvsadm -S -n | awk -v s="-t $VIP:${2:-80} " -v r="-r $1:80" 'index($0, s) && index($0, r) { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
# until_weight ADDR WEIGHT SECONDS [VPORT]: wait until the kernel has it; prints the milliseconds it took
# by the clock (a count of polls would leave out each poll's own time, long in the guest).
until_weight() {
    local i start=$(date +%s%N)
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(weight_of "$1" "${4:-80}")" = "$2" ] && { echo $((($(date +%s%N) - start) / 1000000)); return 0; }
        sleep 0.1
    done
    ipvsadm -S -n >&2
    cat daemon.log >&2
    fail "$1 did not reach weight '$2' within $3 s"
}
ask() { in_ns hg-client timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/80" && printf "GET /index.html HTTP/1.0\r\n\r\n" >&3 && tail -n 1 <&3' $VIP; }

wait_log "lvsh daemon ready"
echo "== both up"
until_weight 10.0.11.11 3 10 >/dev/null
until_weight 10.0.12.12 2 10 >/dev/null
until_weight 10.0.11.11 4 10 81 >/dev/null
until_weight 10.0.12.12 1 10 81 >/dev/null
for i in $(seq 6); do ask >/dev/null || fail "request $i failed with both servers up"; done

echo "== rs1's server stops"
kill "$rs1"
t=$(until_weight 10.0.11.11 0 8)
echo "weight 0 ${t} ms after the kill (bound: interval 1 x fall 2 + timeout 1 = 3 s, +2 s for the guest)"
[ "$t" -le 5000 ] || fail "rs1 went to weight 0 only after $t ms"
ipvsadm -S -n | grep -q -- "-a -t $VIP:80 -r 10.0.11.11:80 -m -w 0" || fail "rs1 is not in the service with weight 0 (inhibit_on_failure)"
until_weight 10.0.11.11 "" 3 81 >/dev/null   # by now within the bound too (same checks, same start)
echo "rs1 left $VIP:81 (no inhibit_on_failure: removed, as keepalived does)"
for i in $(seq 6); do
    answer=$(ask) || fail "request $i failed after rs1's weight went to 0"
    [ "$answer" = rs2 ] || fail "request $i was answered by '$answer', not rs2"
done

echo "== rs1's server back"
rs1=$(http_server hg-rs1 10.0.11.11 rs1)
_lab_pids+=("$rs1")
wait_port hg-rs1 80
t=$(until_weight 10.0.11.11 3 6)
echo "weight 3 again ${t} ms after the server came back (rise 1 at interval 1)"
until_weight 10.0.11.11 4 6 81 >/dev/null
echo "rs1 back in $VIP:81 with weight 4"
kill -TERM "$daemon"
wait "$daemon"
echo "ok"
