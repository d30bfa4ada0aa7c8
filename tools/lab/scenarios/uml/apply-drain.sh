#!/bin/bash
# `lvsh apply FILE --drain 20` with real TCP traffic through a NAT director.
# Why: removing a real server from the file must not cut its open connections. --drain first
# sets the leaving server's weight to 0 (no new connections), waits until its connections are
# gone, and only then deletes it (or after 20 s at the latest).
# Asserted, with a client holding one long-lived connection open through the VIP:
#  - while the apply drains, that connection still works (data goes through and back);
#  - new connections all go to the other server, and `ipvsadm -S -n` shows weight 0;
#  - once the client closes its connection, the apply ends well before 20 s (although IPVS keeps
#    the closed connection as TIME_WAIT) and the drained server is gone (ipvsadm -S -n), with the
#    JSON report counting one extra write (the weight).
# timeout: 150
. "${LAB_LIB:?run via tools/lab/uml/run}"
need_lvsh

VIP=10.0.0.100
netns_add dr-client
netns_add dr-rs1
netns_add dr-rs2
veth_pair dr-client eth0 10.0.1.2/24 "$LAB_NS" c1 10.0.1.1/24
veth_pair dr-rs1 eth0 10.0.11.11/24 "$LAB_NS" r1 10.0.11.1/24
veth_pair dr-rs2 eth0 10.0.12.12/24 "$LAB_NS" r2 10.0.12.1/24
in_ns dr-client ip route add default via 10.0.1.1
# NAT: the real servers' replies must come back through the director to be un-translated.
in_ns dr-rs1 ip route add default via 10.0.11.1
in_ns dr-rs2 ip route add default via 10.0.12.1
ip link add vip0 type dummy
ip link set vip0 up
ip addr add $VIP/32 dev vip0

# Each real server answers every line it reads with its name and the line, for as long as the
# client keeps the connection open: an echo server is what a long-lived session looks like.
for rs in 1 2; do
    printf '#!/bin/bash\nwhile IFS= read -r line; do echo "rs%s $line"; done\n' $rs >"$LAB_TMP/echo-rs$rs"
    chmod +x "$LAB_TMP/echo-rs$rs"
    in_ns dr-rs$rs socat TCP4-LISTEN:80,bind=10.0.1$rs.1$rs,reuseaddr,fork EXEC:"$LAB_TMP/echo-rs$rs" &
    _lab_pids+=($!)
    wait_port dr-rs$rs 80
done

cat >both.lvsh <<EOF
service tcp $VIP:80 scheduler rr
real tcp $VIP:80 10.0.11.11 nat
real tcp $VIP:80 10.0.12.12 nat
sysctl ip_forward 1
EOF
"$LVSH" apply both.lvsh
ipvsadm -S -n

# ask LINE: a new connection that sends LINE and prints the answer ("rs1 LINE").
ask() {
    in_ns dr-client timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/80" && echo "$1" >&3 && IFS= read -r a <&3 && echo "$a"' $VIP "$1" ||
        fail "no answer to '$1' on a new connection"
}
ask hello >/dev/null

echo "== a long-lived connection"
# The client runs in the background and holds its connection on fd 3; the scenario drives it
# through a FIFO, one line per message ("quit" closes the connection), and reads the answers
# from a file. The FIFO stays open on fd 5 here so the client does not see end-of-file early.
mkfifo ctl
: >answers
in_ns dr-client bash -c '
    exec 3<>"/dev/tcp/$0/80" || exit 1
    while IFS= read -r line; do
        [ "$line" = quit ] && break
        echo "$line" >&3
        IFS= read -r -t 5 answer <&3 || answer="(no answer)"
        echo "$answer" >>answers
    done <ctl
    exec 3>&-' $VIP &
client=$!
_lab_pids+=($client)
exec 5>ctl
# say LINE: send LINE on the long-lived connection and print its answer.
say() {
    local n
    n=$(wc -l <answers)
    echo "$1" >&5
    for _ in $(seq 50); do [ "$(wc -l <answers)" -gt "$n" ] && break; sleep 0.1; done
    [ "$(wc -l <answers)" -gt "$n" ] || fail "no answer to '$1' on the long-lived connection"
    tail -n 1 answers
}
first=$(say one)
echo "long-lived connection: $first"
# Which real server holds it: the connection table (ESTABLISHED, from the client's address).
ipvsadm -L -n -c
held=$(ipvsadm -L -n -c | awk '$3 == "ESTABLISHED" && $4 ~ /^10\.0\.1\.2:/ { sub(/:.*/, "", $6); print $6 }')
[ "$(wc -w <<<"$held")" = 1 ] || fail "expected one ESTABLISHED connection from the client, found: $held"
case $held in
    10.0.11.11) drained=rs1 other=rs2 other_ip=10.0.12.12 ;;
    10.0.12.12) drained=rs2 other=rs1 other_ip=10.0.11.11 ;;
    *) fail "the connection went to $held" ;;
esac
[ "$first" = "$drained one" ] || fail "the answer '$first' does not come from $drained, which the connection table names"
echo "the connection is on $drained ($held); the file will remove it"

cat >one.lvsh <<EOF
service tcp $VIP:80 scheduler rr
real tcp $VIP:80 $other_ip nat
sysctl ip_forward 1
EOF
t0=$(date +%s%N)
"$LVSH" apply one.lvsh --drain 20 --json >drain.json 2>drain.err &
apply=$!

echo "== while draining"
# The weight goes to 0 first: wait for it (the apply process needs a moment to start).
for _ in $(seq 50); do
    ipvsadm -S -n | grep -q -- "-r $held:80 -m -w 0" && break
    sleep 0.1
done
ipvsadm -S -n
assert_eq "-A -t $VIP:80 -s rr
-a -t $VIP:80 -r 10.0.11.11:80 -m -w $([ $drained = rs1 ] && echo 0 || echo 1)
-a -t $VIP:80 -r 10.0.12.12:80 -m -w $([ $drained = rs2 ] && echo 0 || echo 1)" "$(ipvsadm -S -n)" "ipvsadm -S -n while draining"
kill -0 $apply 2>/dev/null || fail "the apply ended before the connection closed: $(cat drain.json drain.err)"
# The open connection still works both ways.
assert_eq "$drained two" "$(say two)" "the long-lived connection while draining"
# New connections all go to the other server.
for i in 1 2 3 4; do
    assert_eq "$other new$i" "$(ask new$i)" "new connection $i while draining"
done
assert_eq "$drained three" "$(say three)" "the long-lived connection after new ones"
kill -0 $apply 2>/dev/null || fail "the apply ended before the connection closed"
echo "the drained server keeps its connection; new connections go to $other"

echo "== closing the connection"
echo quit >&5
exec 5>&-
wait $client || true
t_close=$(date +%s%N)
rc=0
wait $apply || rc=$?
t1=$(date +%s%N)
cat drain.json drain.err
[ $rc = 0 ] || fail "apply --drain exited $rc"
# The closed connection stays in IPVS as TIME_WAIT for 2 minutes (an inactive connection in the
# counters): the drain must not wait for it, as it carries nothing.
ipvsadm -L -n -c
total=$(( (t1 - t0) / 1000000 )) after_close=$(( (t1 - t_close) / 1000000 ))
echo "the apply took ${total} ms, ${after_close} ms after the connection closed"
[ $total -lt 15000 ] || fail "the apply took ${total} ms: it should end soon after the connection closed, well before the 20 s limit"
assert_eq "-A -t $VIP:80 -s rr
-a -t $VIP:80 -r $other_ip:80 -m -w 1" "$(ipvsadm -S -n)" "ipvsadm -S -n after the drain"
# Two writes: the weight to 0, then the delete.
grep -q '"changed":true' drain.json || fail "the JSON report does not say changed"
grep -q '"writes":2' drain.json || fail "the JSON report should count 2 writes (weight 0, delete)"
# ... and its plan lists both, the weight first.
plan=$(grep -o '"op":"[a-z-]*"' drain.json | tr '\n' ' ')
assert_eq '"op":"edit-real" "op":"delete-real" ' "$plan" "the JSON plan of a drain"
assert_eq "$other after" "$(ask after)" "a new connection after the drain"
echo "the drained server is gone and traffic goes on"
