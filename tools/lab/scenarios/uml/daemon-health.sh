#!/bin/bash
# Health checks run by lvsh daemon, with real HTTP servers behind a NAT director and a client that
# keeps sending requests through the VIP. Witnesses: ipvsadm -S -n, the client's answers,
# `show health json` and /metrics.
# Asserted:
#  - both real servers up: weights as written, every request answered;
#  - rs1's server stopped: within interval x fall + timeout (+2 s for the guest) its weight is 0 in
#    the kernel, and from then on every new request is answered (by rs2); show health says down, with
#    desired_weight 3; lvsh_real_up is 0; show running-config still says weight 3 (desired);
#  - a reload with the file unchanged writes nothing and leaves rs1 at weight 0 (health's, not drift);
#  - rs1's server back: after `rise` successes its weight is 3 again;
#  - quorum: with both servers down the live weight falls under quorum and the sorry server joins the
#    service; when one comes back it leaves again;
#  - `real ... disable` through the daemon drains rs2 (weight 0, state disabled), `enable` restores it.
# timeout: 240
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

VIP=10.0.0.100
netns_add hc-client
netns_add hc-rs1
netns_add hc-rs2
netns_add hc-sorry
veth_pair hc-client eth0 10.0.1.2/24 "$LAB_NS" c1 10.0.1.1/24
veth_pair hc-rs1 eth0 10.0.11.11/24 "$LAB_NS" r1 10.0.11.1/24
veth_pair hc-rs2 eth0 10.0.12.12/24 "$LAB_NS" r2 10.0.12.1/24
veth_pair hc-sorry eth0 10.0.13.13/24 "$LAB_NS" r3 10.0.13.1/24
in_ns hc-client ip route add default via 10.0.1.1
in_ns hc-rs1 ip route add default via 10.0.11.1
in_ns hc-rs2 ip route add default via 10.0.12.1
in_ns hc-sorry ip route add default via 10.0.13.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0

# http_server NS ADDR NAME: a minimal HTTP/1.0 server answering every request with NAME; prints its pid.
http_server() {
    mkdir -p "$LAB_TMP/www-$3"
    printf '%s\n' "$3" >"$LAB_TMP/www-$3/index.html"
    ip netns exec "$1" /usr/bin/python3 -m http.server 80 --bind "$2" --directory "$LAB_TMP/www-$3" >/dev/null 2>&1 &
    echo $!
}
rs1=$(http_server hc-rs1 10.0.11.11 rs1)
rs2=$(http_server hc-rs2 10.0.12.12 rs2)
sorry=$(http_server hc-sorry 10.0.13.13 sorry)
_lab_pids+=("$rs1" "$rs2" "$sorry")
wait_port hc-rs1 80
wait_port hc-rs2 80
wait_port hc-sorry 80

cat >site.lvsh <<EOF
sysctl ip_forward 1
service tcp $VIP:80 scheduler rr
real tcp $VIP:80 10.0.11.11 nat weight 3
real tcp $VIP:80 10.0.12.12 nat weight 2
check web http path /index.html status 200 expect rs interval 1 timeout 1 rise 2 fall 2
service tcp $VIP:80 check web quorum 2 sorry 10.0.13.13
metrics listen 127.0.0.1:9542
EOF
"$LVSH" daemon "$PWD/site.lvsh" 2>daemon.log &
daemon=$!
at_exit "kill -9 $daemon 2>/dev/null"

# weight_of ADDR: the real server's weight in the kernel ("" when it is not in the service).
weight_of() { ipvsadm -S -n | awk -v r="-r $1:80" 'index($0, r) { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
# until_weight ADDR WEIGHT SECONDS: wait until the kernel has it; prints how long it took (tenths).
until_weight() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(weight_of "$1")" = "$2" ] && { echo "$i"; return 0; }
        sleep 0.1
    done
    ipvsadm -S -n >&2
    cat daemon.log >&2
    fail "$1 did not reach weight '$2' within $3 s"
}
ask() { in_ns hc-client timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/80" && printf "GET /index.html HTTP/1.0\r\n\r\n" >&3 && tail -n 1 <&3' $VIP; }
scrape() {
    exec 3<>/dev/tcp/127.0.0.1/9542
    # HTTP/1.0: the text is not chunked, and ends with the connection.
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
    sed '1,/^\r$/d' <&3
    exec 3<&-
}

wait_log "lvsh daemon ready"
echo "== both up"
until_weight 10.0.11.11 3 10 >/dev/null
until_weight 10.0.12.12 2 10 >/dev/null
for i in $(seq 6); do ask >/dev/null || fail "request $i failed with both servers up"; done

echo "== rs1's server stops"
kill "$rs1"
t=$(until_weight 10.0.11.11 0 6)
echo "weight 0 after $t tenths of a second (bound: interval 1 x fall 2 + timeout 1 = 3 s, +2 s for the guest)"
[ "$t" -le 50 ] || fail "rs1 went to weight 0 only after $t tenths"
for i in $(seq 8); do
    answer=$(ask) || fail "request $i failed after rs1's weight went to 0"
    [ "$answer" = rs2 ] || fail "request $i was answered by '$answer', not rs2"
done
"$LVSH" show health json | tee health.json
grep -q '"address":"10.0.11.11","port":80,"check":"web","state":"down","weight":0,"desired_weight":3' health.json || fail "show health does not say rs1 is down"
grep -q '"address":"10.0.12.12","port":80,"check":"web","state":"up","weight":2,"desired_weight":2' health.json || fail "show health does not say rs2 is up"
scrape >metrics.txt
grep -q "^lvsh_real_up{service=\"tcp $VIP:80\",address=\"10.0.11.11\",port=\"80\"} 0" metrics.txt || fail "/metrics does not say rs1 is down"
"$LVSH" show running-config | grep -q "^real tcp $VIP:80 10.0.11.11:80 nat weight 3$" || fail "running-config lost the desired weight"

echo "== an unchanged reload leaves health's weight alone"
: >daemon.log
kill -HUP "$daemon"
wait_log "reload: the kernel already matches"
[ "$(weight_of 10.0.11.11)" = 0 ] || fail "the reload 'repaired' the weight health set"

echo "== rs1's server back"
rs1=$(http_server hc-rs1 10.0.11.11 rs1)
_lab_pids+=("$rs1")
wait_port hc-rs1 80
t=$(until_weight 10.0.11.11 3 8)
echo "weight 3 again after $t tenths of a second (rise 2 at interval 1)"

echo "== quorum lost: the sorry server joins"
kill "$rs1" "$rs2"
until_weight 10.0.13.13 1 12 >/dev/null
[ "$(ask)" = sorry ] || fail "the sorry server does not answer"
rs2=$(http_server hc-rs2 10.0.12.12 rs2)
_lab_pids+=("$rs2")
wait_port hc-rs2 80
until_weight 10.0.12.12 2 8 >/dev/null
for _ in $(seq 50); do [ -z "$(weight_of 10.0.13.13)" ] && break; sleep 0.1; done
[ -z "$(weight_of 10.0.13.13)" ] || fail "the sorry server stayed once quorum was back"

echo "== maintenance"
"$LVSH" real tcp $VIP:80 10.0.12.12 disable
until_weight 10.0.12.12 0 5 >/dev/null
"$LVSH" show health json | grep -q '"address":"10.0.12.12","port":80,"check":"web","state":"disabled"' || fail "show health does not say disabled"
"$LVSH" real tcp $VIP:80 10.0.12.12 enable
until_weight 10.0.12.12 2 8 >/dev/null
kill -TERM "$daemon"
wait "$daemon"
echo "ok"
