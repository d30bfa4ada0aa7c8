#!/bin/bash
# `metrics listen` of lvsh daemon, with real TCP traffic through a NAT director.
# Asserted:
#  - a scrape of /metrics passes `promtool check metrics` (Debian's prometheus package): over
#    HTTP/1.1 (curl, as Prometheus asks) the text comes in chunks; over HTTP/1.0 it ends with the
#    connection, and both have the same series;
#  - every real server's connection, packet and byte counters equal `ipvsadm -L -n --stats
#    --exact` read right after it (no traffic in between), and the weights the configuration's;
#  - `metrics listen` added by a front's batch through the daemon starts serving, `no metrics
#    listen` stops it;
#  - anything but GET /metrics is 404.
# timeout: 150
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh
command -v promtool >/dev/null || fail "promtool is missing (tools/setup installs Debian's prometheus package)"
command -v curl >/dev/null || fail "curl is missing (tools/setup installs it)"

VIP=10.0.0.100
netns_add mt-client
netns_add mt-rs1
netns_add mt-rs2
veth_pair mt-client eth0 10.0.1.2/24 "$LAB_NS" c1 10.0.1.1/24
veth_pair mt-rs1 eth0 10.0.11.11/24 "$LAB_NS" r1 10.0.11.1/24
veth_pair mt-rs2 eth0 10.0.12.12/24 "$LAB_NS" r2 10.0.12.1/24
in_ns mt-client ip route add default via 10.0.1.1
in_ns mt-rs1 ip route add default via 10.0.11.1
in_ns mt-rs2 ip route add default via 10.0.12.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0
serve_tcp mt-rs1 10.0.11.11 80 rs1
serve_tcp mt-rs2 10.0.12.12 80 rs2

cat >site.lvsh <<EOF
sysctl ip_forward 1
service tcp $VIP:80 scheduler rr
real tcp $VIP:80 10.0.11.11 nat weight 2
real tcp $VIP:80 10.0.12.12 nat weight 3
EOF
"$LVSH" daemon "$PWD/site.lvsh" 2>daemon.log &
daemon=$!
at_exit "kill -9 $daemon 2>/dev/null"
for _ in $(seq 100); do grep -q "lvsh daemon ready" daemon.log && break; sleep 0.1; done
grep -q "lvsh daemon ready" daemon.log || { cat daemon.log; fail "the daemon did not start"; }

# scrape [PATH]: the body of GET PATH (default /metrics) over HTTP/1.1, which curl decodes from its
# chunks; the status line goes to status.txt, the headers to headers.txt.
scrape() {
    curl -sS --http1.1 -D headers.txt "http://127.0.0.1:9542${1:-/metrics}"
    first_line "$(cat headers.txt)" | tr -d '\r' >status.txt
}
# scrape10: the body of GET /metrics over HTTP/1.0 (no chunks: the body ends with the connection).
scrape10() {
    exec 3<>/dev/tcp/127.0.0.1/9542
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
    local response
    response=$(cat <&3)
    exec 3<&-
    first_line "$response" | tr -d '\r' >status.txt
    printf '%s\n' "$response" | sed '1,/^\r$/d'
}

echo "== metrics listen through the daemon"
"$LVSH" -c 'metrics listen 127.0.0.1:9542'
for _ in $(seq 50); do grep -q "metrics at http://127.0.0.1:9542/metrics" daemon.log && break; sleep 0.1; done
grep -q "metrics at http://127.0.0.1:9542/metrics" daemon.log || { cat daemon.log; fail "the metrics server did not start"; }

echo "== traffic"
for i in $(seq 10); do tcp_get mt-client $VIP 80 >/dev/null; done
# The kernel sums its per-CPU counters at each estimator tick (every 2 s): wait past one, so that the
# scrape and ipvsadm, a moment apart, read the same sums (with 1 s, a tick between them gave 4 and 5).
sleep 3

echo "== a scrape, checked by promtool and against ipvsadm"
scrape >metrics.txt
ipvsadm -L -n --stats --exact >stats.txt
cat stats.txt
assert_eq "HTTP/1.1 200 OK" "$(cat status.txt)" "the scrape's status"
grep -qi "^transfer-encoding: chunked" headers.txt || { cat headers.txt; fail "the HTTP/1.1 scrape was not chunked"; }
promtool check metrics <metrics.txt || fail "promtool check metrics failed"
scrape10 >metrics10.txt
assert_eq "HTTP/1.0 200 OK" "$(cat status.txt)" "the HTTP/1.0 scrape's status"
promtool check metrics <metrics10.txt || fail "promtool check metrics failed on the HTTP/1.0 scrape"
names() { grep -v '^#' "$1" | sed 's/ [^ ]*$//' | sort; }
diff <(names metrics.txt) <(names metrics10.txt) || fail "the HTTP/1.0 scrape has other series than the HTTP/1.1 one"
grep -c "^# HELP" metrics.txt
for rs in 10.0.11.11 10.0.12.12; do
    read -r conns inpkts outpkts inbytes outbytes < <(awk -v r="$rs:80" '$2 == r { print $3, $4, $5, $6, $7 }' stats.txt)
    labels="{service=\"tcp $VIP:80\",address=\"$rs\",port=\"80\"}"
    # Label values hold spaces ("tcp ADDR:PORT"): match the series' whole name, take the last field.
    value() { awk -v m="$1$labels " 'index($0, m) == 1 { print $NF }' metrics.txt; }
    assert_eq "$conns" "$(value lvsh_real_connections_total)" "connections of $rs"
    assert_eq "$inpkts" "$(value lvsh_real_packets_in_total)" "packets in of $rs"
    assert_eq "$outpkts" "$(value lvsh_real_packets_out_total)" "packets out of $rs"
    assert_eq "$inbytes" "$(value lvsh_real_bytes_in_total)" "bytes in of $rs"
    assert_eq "$outbytes" "$(value lvsh_real_bytes_out_total)" "bytes out of $rs"
    assert_eq 1.0 "$(value lvsh_real_up)" "lvsh_real_up of $rs"
done
[ "$(awk -v r="10.0.11.11:80" '$2 == r { print $3 }' stats.txt)" -ge 1 ] || fail "the traffic did not reach 10.0.11.11"
grep -q "^lvsh_real_weight{service=\"tcp $VIP:80\",address=\"10.0.12.12\",port=\"80\"} 3" metrics.txt || fail "no weight 3"
grep -q "^lvsh_real_desired_weight{service=\"tcp $VIP:80\",address=\"10.0.11.11\",port=\"80\"} 2" metrics.txt || fail "no desired weight 2"

echo "== other paths are 404"
scrape /other >/dev/null
assert_eq "HTTP/1.1 404 Not Found" "$(cat status.txt)" "the status of /other"

echo "== no metrics listen stops serving"
"$LVSH" -c 'no metrics listen'
for _ in $(seq 30); do (exec 3<>/dev/tcp/127.0.0.1/9542) 2>/dev/null || break; sleep 0.1; done
(exec 3<>/dev/tcp/127.0.0.1/9542) 2>/dev/null && fail "the metrics port still answers"
kill -TERM "$daemon"
wait "$daemon"
echo "ok"
