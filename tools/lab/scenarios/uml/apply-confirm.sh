#!/bin/bash
# `lvsh apply FILE --confirm S`: the new state stays only if `lvsh confirm` comes within S seconds.
# Why: like Junos `commit confirmed`, a change that cuts the operator off (or breaks the service)
# undoes itself. Asserted with the full witness (tools/lab/uml/witness.sh): after `apply --confirm 3`
# the new state is in the kernel; 5 s later, with no confirm, the old state is back exactly
# (IPVS, groups, timeouts, sync daemons, sysctls); after `apply --confirm 5` and `lvsh confirm`,
# the new state is still there 7 s later; a second `apply --confirm` is not rolled back by the
# first one's timer.
# timeout: 120
. "${LAB_LIB:?run via tools/lab/uml/run}"
. "$(dirname "$LAB_LIB")/witness.sh"
need_lvsh

ip link add eth0 type dummy
ip addr add 192.168.147.1/24 dev eth0
ip link set eth0 up

cat >old.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 80,443
service web scheduler wlc persistent 300
real web 192.168.147.129 nat weight 3
real web 192.168.147.130 nat weight 1 upper 100 lower 50
service tcp 192.168.61.131:443 scheduler lc
real tcp 192.168.61.131:443 192.168.147.130 tun tun-type gue tun-port 6080 tun-csum
timeout tcp 900 tcpfin 60 udp 120
sync master interface eth0 id 7
sysctl expire_nodest_conn 1
sysctl expire_quiescent_template 0
EOF
cat >new.lvsh <<'EOF'
group web vip 192.168.61.129 tcp 443,8443
group mail vip 192.168.61.133 tcp 25 mark 2000
service web scheduler rr
real web 192.168.147.129 nat weight 5
real web 192.168.147.131 nat
service mail scheduler sh
real mail 192.168.147.133 dr
timeout tcp 1000 tcpfin 30 udp 60
sync master interface eth0 id 9
sync backup interface eth0 id 9
sysctl expire_nodest_conn 0
sysctl expire_quiescent_template 1
EOF

# The two states, each applied plainly first, give the witnesses to compare with.
"$LVSH" apply new.lvsh --prune >/dev/null 2>&1
witness >new.witness
"$LVSH" apply old.lvsh --prune >/dev/null 2>&1
witness >old.witness
! cmp -s old.witness new.witness || fail "the two files give the same kernel state"
rundir=/run/lvsh/net-$(stat -L -c %i /proc/self/ns/net)

echo "== apply --confirm 3, no confirm: the old state returns"
"$LVSH" apply new.lvsh --prune --confirm 3
witness_same new.witness "the kernel just after apply --confirm 3"
[ -f "$rundir/pending" ] || fail "no pending rollback in $rundir"
echo "the new state is in place; waiting 5 s without confirming"
sleep 5
witness_same old.witness "the kernel 5 s after apply --confirm 3 without confirm"
[ ! -f "$rundir/pending" ] || fail "the rollback is still pending after it ran"
cat "$rundir/rollback.log"
grep -q "no \`lvsh confirm\` within 3 s" "$rundir/rollback.log" || fail "the rollback did not say why it ran"
echo "the old state is back (rollback after 3 s)"
assert_eq "nothing to confirm: no apply --confirm is pending here" "$("$LVSH" confirm)" "lvsh confirm with nothing pending"

echo "== apply --confirm 5, then lvsh confirm: the new state stays"
"$LVSH" apply new.lvsh --prune --confirm 5 --json >confirm.json
grep -q '"changed":true' confirm.json || fail "apply --confirm --json does not say changed"
# Confirmed before the witness runs: on a loaded host the witness alone has taken 5 s.
assert_eq "confirmed: the applied state stays" "$("$LVSH" confirm)" "lvsh confirm"
witness_same new.witness "the kernel just after a confirmed apply --confirm 5"
sleep 7
witness_same new.witness "the kernel 7 s after a confirmed apply"
echo "confirmed: the new state is still there after 7 s"

echo "== a second apply --confirm takes over: the first one's timer does not roll it back"
"$LVSH" apply old.lvsh --prune --confirm 3 >/dev/null
"$LVSH" apply new.lvsh --prune --confirm 60 >/dev/null
sleep 5
witness_same new.witness "the kernel 5 s after apply --confirm 3 was followed by apply --confirm 60"
[ -f "$rundir/pending" ] || fail "the second apply's rollback is no longer pending"
assert_eq "confirmed: the applied state stays" "$("$LVSH" confirm)" "lvsh confirm of the second apply"
echo "the first timer left the second apply alone"
