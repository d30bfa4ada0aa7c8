#!/bin/bash
# lvsh daemon with nftables marks and IPVS in one kernel, the setting the issue's witnesses name:
# group web (VIP tcp 80 and 443) marked by nft, its persistent fwmark service over two NAT real
# servers with a TCP check, and a client whose connections go through the marks. Witnesses:
# ipvsadm -S -n, nft -j list ruleset, sysctl, the client's answers.
# Asserted:
#  - at start the kernel matches the file (the group's elements, the service, the weights), and the
#    daemon turned on the sysctls it needs, saying why: ip_forward (NAT) and expire_quiescent_template
#    (health on a persistent service);
#  - the client stays on one real server for both ports (persistence over the group's mark);
#  - that server's listeners stop: within interval x fall + timeout (+2 s for the guest) its weight
#    is 0, and from then on every connection of the client, to either port, is answered by the
#    other server (expire_quiescent_template ends the client's template); it comes back after rise;
#  - `nft delete element` behind the daemon's back is heard (nftables' change notification names
#    nft) and restored: the ruleset is as before, byte for byte;
#  - kill -9 leaves ipvsadm -S -n and nft -j list ruleset byte-identical; a restart over them makes
#    no write and leaves them so; SIGTERM too.
# timeout: 180
. "${LAB_LIB:?run via tools/lab/qemu/run}"
need_lvsh

VIP=10.0.0.100 CLIENT=10.0.0.2 RS1=10.0.1.11 RS2=10.0.2.12
netns_add client
netns_add rs1
netns_add rs2
veth_pair client eth0 $CLIENT/24 "$LAB_NS" c0 10.0.0.1/24
veth_pair rs1 eth0 $RS1/24 "$LAB_NS" r1 10.0.1.1/24
veth_pair rs2 eth0 $RS2/24 "$LAB_NS" r2 10.0.2.1/24
in_ns client ip route add default via 10.0.0.1
in_ns rs1 ip route add default via 10.0.1.1
in_ns rs2 ip route add default via 10.0.2.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0

# Each real server answers with its name and the port asked for; each one's listeners by pid.
declare -A pids
for port in 80 443; do
    for rs in rs1 rs2; do
        addr=$RS1; [ $rs = rs1 ] || addr=$RS2
        serve_tcp $rs $addr $port $rs-$port
        pids[$rs]+="${_lab_pids[-1]} "
    done
done

cat >site.lvsh <<EOF
group web vip $VIP tcp 80,443
service web scheduler rr persistent 60
real web $RS1 nat weight 2
real web $RS2 nat weight 2
check web-tcp tcp port 80 interval 1 timeout 1 rise 2 fall 2
service web check web-tcp
EOF

start_daemon() {
    "$LVSH" --backend nft daemon "$PWD/site.lvsh" 2>>daemon.log &
    daemon=$!
    at_exit "kill -9 $daemon 2>/dev/null"
}
weight_of() { ipvsadm -S -n | awk -v r="-r $1:0" 'index($0, r) { for (i = 1; i <= NF; i++) if ($i == "-w") print $(i + 1) }'; }
# until_weight ADDR WEIGHT SECONDS: wait until the kernel has it; prints the milliseconds it took.
until_weight() {
    local start=$(date +%s%N)
    while [ "$(weight_of "$1")" != "$2" ]; do
        [ $(($(date +%s%N) - start)) -lt $(($3 * 1000000000)) ] || { ipvsadm -S -n >&2; cat daemon.log >&2; fail "$1 did not reach weight '$2' within $3 s"; }
        sleep 0.05
    done
    echo $((($(date +%s%N) - start) / 1000000))
}
get() { in_ns client timeout 5 socat -u "TCP4:$VIP:$1" STDOUT || fail "no answer from $VIP port $1"; }
# server_for PORTS...: the one real server that answered the client on all of them.
server_for() {
    local server="" a port
    for port; do
        a=$(get "$port")
        [ "${a##*-}" = "$port" ] || fail "asked for port $port, got '$a'"
        [ -n "$server" ] || server=${a%-*}
        [ "${a%-*}" = "$server" ] || fail "the client was not kept on one real server: port $port answered by '$a', earlier by $server"
    done
    echo "$server"
}
ruleset() { nft -j list ruleset; }
snapshot() { ipvsadm -S -n; ruleset; }

echo "== start: the kernel as the file says"
start_daemon
wait_log "lvsh daemon ready"
until_weight $RS1 2 10 >/dev/null
until_weight $RS2 2 10 >/dev/null
ipvsadm -S -n | tee start.txt
grep -q -- "-A -f 1000 -s rr -p 60" start.txt || fail "the group's persistent fwmark service is missing"
# Into a file first: nft writes its listing in many writes, and `grep -q` leaving early would make it
# die of SIGPIPE (a failure under pipefail).
nft list table inet lvsh >table.txt
grep -qF "$VIP . tcp . 443 : 0x000003e8" table.txt || { cat table.txt; fail "nft does not mark VIP:443 for group web"; }
# The file names no sysctl: NAT needs forwarding, and health on a persistent service needs the
# templates of weight-0 servers to expire; the daemon turns both on and says why.
assert_eq 1 "$(sysctl -n net.ipv4.ip_forward)" "net.ipv4.ip_forward"
assert_eq 1 "$(sysctl -n net.ipv4.vs.expire_quiescent_template)" "net.ipv4.vs.expire_quiescent_template"
grep -q "note: turning on net.ipv4.vs.expire_quiescent_template: service web is persistent" daemon.log || fail "the daemon did not say why it set expire_quiescent_template"

echo "== the client stays on one real server for both ports"
first=$(server_for 80 443 80 443)
declare -A addr_of=([rs1]=$RS1 [rs2]=$RS2)
other=rs1; [ "$first" = rs1 ] && other=rs2
down=${addr_of[$first]}
echo "the client's server: $first"

echo "== the client's server stops: weight 0, and the client moves to the other for both ports"
kill ${pids[$first]}
t=$(until_weight "$down" 0 6)
echo "weight 0 after $t ms (bound: interval 1 x fall 2 + timeout 1 = 3 s, +2 s for the guest)"
[ "$t" -le 5000 ] || fail "weight 0 only after $t ms"
assert_eq "$other" "$(server_for 80 443 80 443 80 443)" "the client's server once $first's weight is 0"
"$LVSH" show health json | tee health.json
grep -q "\"address\":\"$down\",\"port\":0,\"check\":\"web-tcp\",\"state\":\"down\",\"weight\":0,\"desired_weight\":2" health.json || fail "show health does not say $first is down"

echo "== back after rise"
serve_tcp "$first" "$down" 80 "$first-80"
serve_tcp "$first" "$down" 443 "$first-443"
t=$(until_weight "$down" 2 8)
echo "weight 2 again after $t ms (rise 2 at interval 1)"

echo "== nft delete element behind the daemon's back: logged and restored"
ruleset >before-drift.json
nft delete element inet lvsh v4_ports "{ $VIP . tcp . 443 }"
# Heard from nftables' notification of nft's commit, not found by the periodic read.
wait_log "drift: table inet lvsh changed by nft (pid " 5
wait_log "drift: restoring: add 1 entry to group web" 45
wait_log "drift repaired" 45
grep "drift" daemon.log
ruleset >after-drift.json
assert_file_eq before-drift.json after-drift.json "nft -j list ruleset after the drift's repair"
get 443 >/dev/null

echo "== kill -9 leaves the kernel as it was; a restart makes no write"
snapshot >before-kill.txt
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
snapshot >after-kill.txt
assert_file_eq before-kill.txt after-kill.txt "ipvsadm -S -n and nft -j list ruleset after kill -9"
: >daemon.log
start_daemon
wait_log "lvsh daemon ready"
grep -q "start: the kernel already matches .* writes=0" daemon.log || { cat daemon.log; fail "the restart wrote"; }
sleep 3 # three rounds of checks: all up, nothing to write
snapshot >after-restart.txt
assert_file_eq before-kill.txt after-restart.txt "ipvsadm -S -n and nft -j list ruleset after the restart"

echo "== SIGTERM: exit 0, the kernel left as it is"
stop_daemon
snapshot >after-term.txt
assert_file_eq before-kill.txt after-term.txt "ipvsadm -S -n and nft -j list ruleset after SIGTERM"
echo "PASS: nft marks and IPVS kept by lvsh daemon: health moved the client from $first to $other; drift restored; kill -9 and SIGTERM left the kernel byte-identical"
